# The playbook image: one image for every process of the production layout
# (`playbook migrate`, `playbook api`, `playbook worker`; see docker-compose.yml).
#
#   docker build -t playbook .
#   docker run --rm playbook check /app/playbooks
#
# The standard playbooks are baked in at /app/playbooks (PLAYBOOK_PLAYBOOKS). To run your own,
# build FROM this image and COPY them over /app/playbooks, or mount them read-only there; the
# API and every worker must see the same files. A playbook.toml in /app (the working folder) is
# read too; environment variables take precedence over it.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The project goes into its own virtual environment, copied whole into the runtime stage.
RUN python -m venv /opt/playbook
ENV PATH="/opt/playbook/bin:$PATH"

WORKDIR /src
COPY pyproject.toml README.md ./
COPY dsl ./dsl
COPY engine ./engine
COPY activities ./activities
COPY workers ./workers
COPY server ./server
COPY simulation ./simulation
COPY cli ./cli
RUN pip install .


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/playbook/bin:$PATH" \
    PLAYBOOK_PLAYBOOKS=/app/playbooks \
    PLAYBOOK_STATE_DIR=/var/lib/playbook \
    PLAYBOOK_API_HOST=0.0.0.0 \
    PLAYBOOK_API_PORT=8000

RUN groupadd --system --gid 10001 playbook \
    && useradd --system --uid 10001 --gid playbook --home-dir /var/lib/playbook --no-create-home \
        --shell /usr/sbin/nologin playbook \
    && mkdir -p /app /var/lib/playbook \
    && chown playbook:playbook /var/lib/playbook

COPY --from=build /opt/playbook /opt/playbook
WORKDIR /app
COPY playbooks ./playbooks

USER playbook:playbook

# Fail the build when the baked-in playbooks do not check.
RUN playbook check /app/playbooks

EXPOSE 8000
VOLUME ["/var/lib/playbook"]

ENTRYPOINT ["playbook"]
CMD ["--help"]
