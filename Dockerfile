# Dockerfile: the kit's machine as a Debian 12 container, for macOS and
# Windows laptops, set up by the same make setup as a lab VM. README,
# "macOS and Windows: the container", says what a container changes.
#
#   docker build -t c10k-lab .
#   docker run --rm -it --ulimit nofile=65536:65536 --security-opt seccomp=unconfined \
#       --cap-add PERFMON -v "$PWD:/home/student/c10k-lab" c10k-lab
#
# The image holds the packages, not the kit: the repository is mounted at
# run time (VS Code's .devcontainer does the same), so an edit on the laptop
# is the file the container builds.
FROM debian:12

# Only what make setup and tests/deps read: the one package list and its
# reader. The labs' packages, then the suites' (bats, jq, the load tools).
COPY tools/packages tools/setup /opt/c10k-setup/tools/
COPY harness/packages.bash /opt/c10k-setup/harness/
COPY tests/deps /opt/c10k-setup/tests/
RUN /opt/c10k-setup/tools/setup && /opt/c10k-setup/tests/deps && \
    rm -rf /var/lib/apt/lists/*

# The labs run as a normal user, as on a shared VM.
RUN useradd -m -s /bin/bash student
USER student
WORKDIR /home/student/c10k-lab
CMD ["bash", "-l"]
