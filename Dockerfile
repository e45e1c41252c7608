# syntax=docker/dockerfile:1

# Base images are pinned by digest, so a rebuild gets the same bytes until
# someone decides otherwise. To move to a newer image, look up the digest of
# the tag and replace it here (README: "The image"):
#   docker buildx imagetools inspect golang:1.26 --format '{{json .Manifest.Digest}}'
#   crane digest gcr.io/distroless/static-debian12:nonroot
# deploy/deploy_test.go refuses a FROM without a digest.

# Build with the same `make build` developers and CI use, so the image can't
# drift from it: a static (CGO_ENABLED=0), -trimpath binary. .git is not in
# the build context, so the version and revision come in as build args:
#   docker build --build-arg VERSION=v1.2.3 --build-arg REVISION=$(git rev-parse HEAD) -t retentiond .
FROM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
ARG VERSION=dev
ARG REVISION=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build VERSION="$VERSION" REVISION="$REVISION"
# An empty directory owned by the image's user: a named volume mounted at
# /archive starts as a copy of it, so nonroot can write archives there.
RUN mkdir -p /out/archive

# distroless/static has CA certificates and tzdata, no shell, and a nonroot
# user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="retentiond" \
      org.opencontainers.image.description="Keeps GitHub Actions artifact storage under control: scan, evaluate a retention policy, delete (dry-run by default), audit every decision." \
      org.opencontainers.image.source="https://github.com/retentiond/retentiond" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /src/bin/retentiond /usr/local/bin/retentiond
# The example policy is the default until a real one is mounted over it;
# run and serve refuse to delete with it (DRY_RUN=false exits 2).
COPY --from=build /src/policies.example.yaml /etc/retentiond/policies.yaml
COPY --from=build --chown=65532:65532 /out/archive /archive
ENV POLICY_FILE=/etc/retentiond/policies.yaml
USER 65532:65532
# Writable by nonroot, so the default ARCHIVE_DIR (archive) works; mount a
# volume at /archive (ARCHIVE_DIR=/archive) to keep archives.
WORKDIR /home/nonroot
# HTTP_ADDR's default: /healthz, /readyz, /metrics, POST /webhook.
EXPOSE 8080
# No shell or curl on distroless: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["retentiond", "check", "--liveness"]
ENTRYPOINT ["retentiond"]
CMD ["serve"]
