# syntax=docker/dockerfile:1

# Build with the same `make build` developers and CI use, so the image can't
# drift from it: a static (CGO_ENABLED=0), -trimpath binary.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build

# distroless/static has CA certificates and tzdata, no shell, and a nonroot
# user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/retentiond /usr/local/bin/retentiond
# The example policy is the default until a real one is mounted over it.
COPY --from=build /src/policies.example.yaml /etc/retentiond/policies.yaml
ENV POLICY_FILE=/etc/retentiond/policies.yaml
USER nonroot:nonroot
# Writable by nonroot, so the default ARCHIVE_DIR (archive) works; mount a
# volume there to keep archives.
WORKDIR /home/nonroot
ENTRYPOINT ["retentiond"]
CMD ["serve"]
