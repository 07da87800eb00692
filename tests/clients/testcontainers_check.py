"""testcontainers-python against berth, as a test suite would use it.

Starts a busybox web server with DockerContainer (Ryuk, the reaper container that
needs the Docker socket mounted, is turned off by TESTCONTAINERS_RYUK_DISABLED, as
on any remote Docker host), waits for its log line, finds its published port and
fetches a page through it, then stops it (the container is removed).

Usage: testcontainers_check.py PORT   (the host port published for the container's
port 80; DOCKER_HOST and DOCKER_CONFIG name the berth agent and the CLI config).
"""

import sys
import time
import urllib.request

import docker
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy


def fetch(url):
    """The page at `url`, trying for 10 s: the log line comes just before the server
    listens."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return urllib.request.urlopen(url, timeout=10).read().decode().strip()
        except OSError as e:
            if time.monotonic() > deadline:
                sys.exit(f"{url}: {e}")
            time.sleep(0.2)


def main():
    port = int(sys.argv[1])
    server = ["/bin/busybox", "sh", "-c", "echo server ready; exec /bin/busybox httpd -f -p 80 -h /etc"]
    container = DockerContainer("bb").with_command(server).with_bind_ports(80, port)
    container.waiting_for(LogMessageWaitStrategy("server ready"))
    with container:
        host = container.get_container_host_ip()
        published = container.get_exposed_port(80)
        hostname = container.get_wrapped_container().attrs["Config"]["Hostname"]
        url = f"http://{host}:{published}/hostname"
        page = fetch(url)
        if page != hostname:
            sys.exit(f"{url} answered {page!r}, not the container's host name {hostname!r}")
        ident = container.get_wrapped_container().id
    try:
        docker.from_env().containers.get(ident)
        sys.exit(f"container {ident} is still there after the with block")
    except docker.errors.NotFound:
        pass
    print(f"testcontainers ok: {url} answered {page}")


if __name__ == "__main__":
    main()
