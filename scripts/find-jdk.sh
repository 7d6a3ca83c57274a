# Sourced by ./attn4j and ./build: sets ATTN4J_JAVA_HOME to a JDK >= 25, or explains how to get one.
# Order: JAVA_HOME, then the java on PATH, then every JDK under /usr/lib/jvm (newest first).

attn4j_java_major() {
    # Prints the feature version of the java binary $1 (e.g. 25), or nothing. The JDK's `release`
    # file says it without starting a JVM (about 60 ms per candidate); asked of the JVM otherwise.
    local release major
    release="$(dirname "$(dirname "$1")")/release"
    if [ -f "$release" ]; then
        major=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$release" | head -n 1)
        if [ -n "$major" ]; then
            echo "$major"
            return
        fi
    fi
    "$1" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

attn4j_find_jdk() {
    local min=25 candidates=() c major
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    if command -v java >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    fi
    for c in $(ls -d /usr/lib/jvm/*/ /opt/java/*/ /opt/jdk*/ 2>/dev/null | sort -rV); do
        candidates+=("${c%/}")
    done
    for c in "${candidates[@]}"; do
        [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
        major=$(attn4j_java_major "$c/bin/java")
        if [ -n "$major" ] && [ "$major" -ge "$min" ]; then
            ATTN4J_JAVA_HOME="$c"
            return 0
        fi
    done
    {
        echo "attn4j needs a JDK $min or newer and found none (looked at JAVA_HOME, the java on PATH, /usr/lib/jvm/*)."
        echo "Install one, e.g. Temurin $min from https://adoptium.net/ (Debian/Ubuntu: apt install temurin-$min-jdk"
        echo "after adding the Adoptium repository), then set JAVA_HOME to it or put it under /usr/lib/jvm."
    } >&2
    return 1
}
