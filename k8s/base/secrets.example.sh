#!/usr/bin/env sh
# Creates the four Secrets the manifests reference (they are never committed with values).
# Run once before `kubectl apply -k k8s/overlays/<overlay>`; the namespace must exist:
#   kubectl apply -f k8s/base/namespace.yaml
# Hex values are URL-safe, which matters: the Redis password is spliced into MATES_REDIS_URI. It is the password
# of the Redis ACL user `mates` (the bundled Redis disables the `default` user).
# With external stores, put the credentials of your Redis / S3 bucket here instead (k8s/README.md).
set -eu
NS="${NS:-mates}"

kubectl -n "$NS" create secret generic mates-redis \
  --from-literal=password="$(openssl rand -hex 24)"

# The bundled MinIO's root user (MINIO_ROOT_USER / MINIO_ROOT_PASSWORD; user: at least 3 characters,
# password: 8). Only MinIO and the mates-bucket-init Job read it. Not needed with external stores.
kubectl -n "$NS" create secret generic mates-object-store \
  --from-literal=access-key="root-$(openssl rand -hex 8)" \
  --from-literal=secret-key="$(openssl rand -hex 24)"

# The services' S3 key pair. Bundled MinIO: the mates-bucket-init Job creates this MinIO user with a policy
# limited to the bucket (secret key: 8 to 40 characters). External stores: your S3 key pair for the bucket.
kubectl -n "$NS" create secret generic mates-object-store-user \
  --from-literal=access-key="mates-$(openssl rand -hex 8)" \
  --from-literal=secret-key="$(openssl rand -hex 16)"

# gRPC bearer tokens, mounted as files in every service pod (/var/run/mates/auth/{token,internal-token}).
# token: what clients (the mates CLI with MATES_TOKEN, callers of the online scorer) send; internal-token:
# what the trainer sends to the probers and the influence model. One token per line; clients send the first.
kubectl -n "$NS" create secret generic mates-auth \
  --from-literal=token="$(openssl rand -hex 32)" \
  --from-literal=internal-token="$(openssl rand -hex 32)"

# Only with the components/tls component and without components/tls-cert-manager: your certificate for every
# service (DNS names and usages: k8s/README.md, section 7) as Secret mates-tls, keys tls.crt, tls.key (PKCS#8
# PEM), ca.crt. Uncomment, with the three files in the current directory:
# kubectl -n "$NS" create secret generic mates-tls \
#   --from-file=tls.crt --from-file=tls.key --from-file=ca.crt
