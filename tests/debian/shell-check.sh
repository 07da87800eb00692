#!/bin/bash
# bash, pipelines and coreutils in a Debian root: each line prints what Linux prints.
set -euo pipefail
seq 1 100 | awk '{ s += $1 } END { print "sum", s }'
printf 'b\na\nc\nb\n' | sort | uniq -c | sort -rn | head -1 | tr -s ' ' | sed 's/^ //'
echo "words $(echo one two three | wc -w)"
mkdir -p /tmp/shell-check && cd /tmp/shell-check
for i in $(seq 1 20); do echo "line $i" > "file-$i.txt"; done
echo "files $(ls | wc -l), bytes $(cat file-*.txt | wc -c)"
cp file-1.txt copy.txt && ln -s copy.txt link && echo "link $(readlink link) $(cat link)"
find . -name 'file-1*' | sort | head -3 | xargs echo found
declare -A colours=([red]=1 [green]=2)
echo "assoc ${#colours[@]} ${colours[green]}"
(sleep 0.1; echo background) & wait
echo "subshell $(bash -c 'echo $((6 * 7))')"
id -u && hostname | grep -q . && date +%Y | grep -q '^20'
echo "shell ok"
