# Sourced: build_image NAME builds images/NAME.toml into $images/NAME with
# $slipway, unless $images/NAME/.key says the image there came from this
# slipway binary and this definition (then it is reused). The image cache is
# $build/image-cache. Used by .ci/demo-real-vms and bench/real-apply.sh.
build_image() {
  local name=$1 out="$images/$1"
  local key
  key="$(sha256sum "$slipway" "images/$name.toml" | cut -c1-64 | tr -d '\n')"
  if [ -f "$out/$name.qcow2" ] && [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
    echo "   $name: cached"
    return 0
  fi
  rm -rf "$out"
  mkdir -p "$images"
  "$slipway" build image "images/$name.toml" --out "$out" --cache "$build/image-cache" >"$images/$name.log" 2>&1 ||
    { echo "   $name: build failed; see $images/$name.log" >&2; return 1; }
  echo "$key" >"$out/.key"
  echo "   $name: built ($(tail -n 1 "$images/$name.log"))"
}
