#!/usr/bin/env sh
# Creates the three Secrets the manifests reference (they are never committed with values).
# Run once before `kubectl apply -k k8s/overlays/<overlay>`; the namespace must exist:
#   kubectl apply -f k8s/base/namespace.yaml
# Hex values are URL-safe, which matters: the Redis password is spliced into MATES_REDIS_URI.
# With external stores, put the credentials of your Redis / S3 bucket here instead (k8s/README.md).
set -eu
NS="${NS:-mates}"

kubectl -n "$NS" create secret generic mates-redis \
  --from-literal=password="$(openssl rand -hex 24)"

# MinIO uses these as MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (user: at least 3 characters, password: 8).
kubectl -n "$NS" create secret generic mates-object-store \
  --from-literal=access-key="mates-$(openssl rand -hex 8)" \
  --from-literal=secret-key="$(openssl rand -hex 24)"

# gRPC bearer tokens, mounted as files in every service pod (/var/run/mates/auth/{token,internal-token}).
# token: what clients (the mates CLI with MATES_TOKEN, callers of the online scorer) send; internal-token:
# what the trainer sends to the probers and the influence model. One token per line; clients send the first.
kubectl -n "$NS" create secret generic mates-auth \
  --from-literal=token="$(openssl rand -hex 32)" \
  --from-literal=internal-token="$(openssl rand -hex 32)"
