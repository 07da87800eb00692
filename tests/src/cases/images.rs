//! Images as operators use them: configurations (`docker import --change`), what a
//! container of an image runs and as whom, `tag`, `history`, `image inspect`.

use super::agent::{CLI, boot, expect, save_console};
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::qemu::free_port;
use berth_image::rootfs;

/// The users and groups of the test image.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
const GROUP: &str = "root:x:0:\napp:x:1000:\nstaff:x:50:app\n";

/// What the image's command prints: who it runs as, where, with what environment,
/// and who owns a file it makes.
const REPORT: &str = "b=/bin/busybox; f=$($b mktemp); echo uid=$($b id -u) gid=$($b id -g) groups=\"$($b id -G)\" \
                      home=$HOME pwd=$(pwd) greet=$GREETING owner=$($b stat -c %u:%g $f); \
                      $b chown 0 $f 2>/dev/null && echo chown-allowed || echo chown-refused";

/// `docker import --change` sets what containers run (command, environment, working
/// directory, user, ports, labels); `docker run` options override each as Docker's;
/// the user's ids come from the image's passwd and group files and own the files it
/// makes; `tag`, `history`, `image inspect` and `rmi` of one tag; a bad change or user
/// is refused with Docker's words.
pub fn image_config(a: &Artifacts) -> Result<(), String> {
    let test = "agent-image-config";
    let agent = free_port();
    let vm = boot(a, test, "", agent, free_port())?;
    let dir = a.dir.join("test-scratch").join(test);
    let result = (|| {
        let mut root = rootfs::busybox_rootfs(&rootfs::system_busybox()).map_err(|e| e.to_string())?;
        root.file("etc/passwd", PASSWD, 0o644).file("etc/group", GROUP, 0o644).dir("tmp", 0o1777);
        let tar = dir.join("users.tar");
        root.write(&tar).map_err(|e| e.to_string())?;
        let tar = tar.to_string_lossy().into_owned();
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        let cmd = format!("CMD [\"/bin/busybox\", \"sh\", \"-c\", {}]", serde_json::to_string(REPORT).unwrap());
        let changes = [&cmd[..], "ENV GREETING=hi", "WORKDIR /srv/app", "USER app", "EXPOSE 8080", "LABEL team=berth"];
        let mut import = vec!["import", "-m", "made by the test"];
        for change in &changes {
            import.extend(["--change", change]);
        }
        import.extend([&tar[..], "cfg:1"]);
        docker.ok(&import, CLI)?;

        let out = docker.ok(&["run", "--rm", "cfg:1"], CLI)?;
        let want = "uid=1000 gid=1000 groups=\"1000 50\" home=/home/app pwd=/srv/app greet=hi owner=1000:1000\n\
                    chown-refused\n";
        let want = want.replace('"', "");
        expect(&vm, out == want, &format!("the image's command as app printed {out:?}, want {want:?}"))?;

        let out = docker.ok(&["run", "--rm", "-u", "0", "-w", "/", "-e", "GREETING=yo", "cfg:1"], CLI)?;
        let want = "uid=0 gid=0 groups=0 home=/root pwd=/ greet=yo owner=0:0\nchown-allowed\n";
        expect(&vm, out == want, &format!("the image's command as root printed {out:?}, want {want:?}"))?;

        let out = docker.ok(&["run", "--rm", "cfg:1", "/bin/busybox", "echo", "override"], CLI)?;
        expect(&vm, out == "override\n", &format!("a command given to docker run printed {out:?}"))?;
        let out = docker.ok(&["run", "--rm", "--entrypoint", "/bin/busybox", "cfg:1", "echo", "ep"], CLI)?;
        expect(&vm, out == "ep\n", &format!("--entrypoint printed {out:?}"))?;
        let ghost = docker.run(&["run", "--rm", "-u", "ghost", "cfg:1"], CLI)?;
        expect(
            &vm,
            ghost.code != 0 && ghost.stderr.contains("unable to find user ghost"),
            &ghost.describe(&["run", "-u", "ghost"]),
        )?;

        let config = docker.ok(&["image", "inspect", "cfg:1", "--format", "{{json .Config}} {{.Comment}}"], CLI)?;
        for needle in [
            "\"User\":\"app\"",
            "\"WorkingDir\":\"/srv/app\"",
            "\"GREETING=hi\"",
            "\"8080/tcp\":{}",
            "\"team\":\"berth\"",
            "made by the test",
        ] {
            expect(&vm, config.contains(needle), &format!("image inspect lacks {needle}: {config}"))?;
        }
        let created = docker.ok(&["create", "--name", "cfgc", "cfg:1"], CLI)?;
        let inspect =
            docker.ok(&["inspect", "cfgc", "--format", "{{json .Config.ExposedPorts}} {{.Config.User}}"], CLI)?;
        expect(&vm, inspect.contains("8080/tcp") && inspect.contains("app"), &format!("container inspect: {inspect}"))?;
        docker.ok(&["rm", created.trim()], CLI)?;

        docker.ok(&["tag", "cfg:1", "registry.example:5000/team/cfg:2"], CLI)?;
        let images = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], CLI)?;
        let ids: Vec<&str> = images
            .lines()
            .filter(|l| l.starts_with("cfg:1 ") || l.starts_with("registry.example:5000/team/cfg:2 "))
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        expect(
            &vm,
            ids.len() == 2 && ids[0] == ids[1],
            &format!("docker tag: the two names are not one image:\n{images}"),
        )?;
        let history = docker.ok(&["history", "cfg:1"], CLI)?;
        expect(&vm, history.contains("made by the test"), &format!("docker history:\n{history}"))?;
        let rmi = docker.ok(&["rmi", "cfg:1"], CLI)?;
        expect(&vm, rmi.contains("Untagged: cfg:1") && !rmi.contains("Deleted"), &format!("rmi of one tag: {rmi}"))?;
        let out =
            docker.ok(&["run", "--rm", "registry.example:5000/team/cfg:2", "/bin/busybox", "echo", "tagged"], CLI)?;
        expect(&vm, out == "tagged\n", &format!("run by the new tag printed {out:?}"))?;

        let bad = docker.run(&["import", "--change", "FROM debian", &tar, "bad"], CLI)?;
        expect(
            &vm,
            bad.code != 0 && bad.stderr.contains("FROM is not a valid change command"),
            &bad.describe(&["import", "--change", "FROM debian"]),
        )?;
        let none = docker.run(&["run", "--rm", "registry.example:5000/team/cfg:2x"], CLI)?;
        expect(&vm, none.code != 0, "a run of a missing tag succeeded")?;
        let images = docker.ok(&["images", "-q", "bad"], CLI)?;
        expect(&vm, images.trim().is_empty(), &format!("a refused import left an image: {images}"))
    })();
    save_console(a, test, &vm);
    result
}
