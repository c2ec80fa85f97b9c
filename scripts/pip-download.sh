# Sourced by scripts/fetch-model.sh and scripts/fetch-generator.sh (not run on its own).
#
# pip_download DIR SPEC WHAT: downloads the one distribution SPEC names into DIR without its
# dependencies, installing or running nothing, in up to three attempts; on the last failure says
# which WHAT could not be fetched and returns 1.
pip_download() {
    local dir="$1" spec="$2" what="$3" attempt
    for attempt in 1 2 3; do
        if python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check -d "$dir" "$spec"; then
            return 0
        fi
        if [ "$attempt" = 3 ]; then
            echo "error: could not download $what ($spec)" >&2
            return 1
        fi
        echo "retrying $what ..." >&2
        sleep 2
    done
}
