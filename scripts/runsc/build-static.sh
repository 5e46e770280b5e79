#!/bin/sh
# Builds gVisor's runsc into OUT_DIR with nothing but Node.js and the Go module proxy: the Go
# toolchain is itself a module there (golang.org/toolchain), so no Go install and no download site
# is needed. The Dockerfile's optional runsc stage runs it (docker build --build-arg WITH_RUNSC=true);
# on a machine with Go, scripts/setup --sandbox gvisor does the same through `go install`.
#
#   scripts/runsc/build-static.sh OUT_DIR GO_TOOLCHAIN RUNSC_VERSION
#   (the Dockerfile passes the pins; src/sandbox/gvisor/runsc-binary.ts holds the same ones)
set -eu
out=$1
toolchain=$2
version=$3
proxy=${GOPROXY:-https://proxy.golang.org}
proxy=${proxy%%,*}
arch=$(node -p 'process.arch === "x64" ? "amd64" : process.arch')
module="v0.0.1-${toolchain}.linux-${arch}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "[runsc] Go toolchain ${toolchain} from ${proxy} (golang.org/toolchain@${module})"
node -e '
  const [url, file] = process.argv.slice(1);
  fetch(url).then(async (res) => {
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    require("node:fs").writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  }).catch((err) => { console.error(err.message); process.exit(1); });
' "${proxy}/golang.org/toolchain/@v/${module}.zip" "$work/go.zip"
mkdir "$work/go"
(cd "$work/go" && unzip -q ../go.zip)
go="$work/go/golang.org/toolchain@${module}/bin/go"

echo "[runsc] go install gvisor.dev/gvisor/runsc@${version} into ${out}"
mkdir -p "$out"
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$out" GOPATH="$work/gopath" GOCACHE="$work/cache" \
  "$go" install "gvisor.dev/gvisor/runsc@${version}"
"$out/runsc" --version | head -n 1
