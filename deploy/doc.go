// Package deploy holds retentiond's deployment files — deploy/compose.yaml,
// deploy/kubernetes/, deploy/grafana/retentiond.json and
// deploy/prometheus/alerts.yaml — and, in its tests, what keeps them honest
// against the code: the variables retentiond reads, the port it listens on,
// the metrics its /metrics handler serves and the Dockerfile's build.
package deploy
