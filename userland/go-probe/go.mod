module berth/go-probe

go 1.19
