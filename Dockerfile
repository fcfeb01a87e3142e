# Aura's production image: the package installed on a slim Python, run by an unprivileged user.
# The wheel carries migrations/, templates/ and alembic.ini (see pyproject.toml), so the image
# needs no source tree at run time. Build and run it with docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AURA_ENV=production \
    AURA_DATA_DIR=/var/lib/aura

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/aura --create-home \
        --shell /usr/sbin/nologin aura

WORKDIR /usr/src/aura
COPY pyproject.toml README.md alembic.ini ./
COPY aura ./aura
COPY migrations ./migrations
COPY templates ./templates
RUN pip install . && rm -rf /usr/src/aura

USER aura
WORKDIR /var/lib/aura
EXPOSE 8000

# Python's standard library only: the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", \
         "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/health', timeout=2)"]

# Migrate, then serve; arguments after the image name go to `aura serve` (e.g. --workers 4).
ENTRYPOINT ["/bin/sh", "-c", \
            "aura db upgrade && exec aura serve --host 0.0.0.0 --port 8000 \"$@\"", "aura"]
CMD ["--workers", "2"]
