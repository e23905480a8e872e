# Sourced by the other setup scripts: apt_install PKG... installs the missing ones.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "ci: installing ${missing[*]} from Debian's packages"
    if [ ! -e /tmp/.kfn-ci-apt-updated ]; then
        apt-get update -q >/dev/null && touch /tmp/.kfn-ci-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
