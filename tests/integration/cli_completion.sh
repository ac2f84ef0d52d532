#!/bin/sh
# The bash completion of veritee (contrib/bash-completion/veritee, installed by cmake --install):
# sourced in bash, _veritee's COMPREPLY for a few command lines completed against the built
# program's --help: commands, sub-commands, a sub-command's options and an option's values.
set -u
. "$(dirname "$0")/lib/common.sh"
BIN="${VT_BIN:-build/bin}"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COMP="$ROOT/contrib/bash-completion/veritee"
if [ ! -x "$BIN/veritee" ]; then
        echo "skipped: $BIN/veritee not built"
        exit 77
fi
if ! command -v bash >/dev/null 2>&1; then
        echo "skipped: bash not installed"
        exit 77
fi

# comp WORDS...: the sorted completions of the last word, as bash-completion would call _veritee
comp() {
        bash -c '
                . "$1" || exit 3
                complete -p veritee >/dev/null || exit 4
                shift
                COMP_WORDS=("$@")
                COMP_CWORD=$(($# - 1))
                COMP_LINE="$*"
                COMP_POINT=${#COMP_LINE}
                _veritee
                printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " " | sed "s/ $//"
        ' comp "$COMP" "$@"
}

# case WANT WORDS...: the completions of WORDS are exactly WANT
case_() {
        want=$1
        shift
        got=$(comp "$@")
        if [ "$got" = "$want" ]; then
                ok "$* <TAB> -> $got"
        else
                fail "$* <TAB>: got \"$got\", want \"$want\""
        fi
}

B="$BIN/veritee"
case_ "secret" "$B" se
case_ "--help import ls put rm" "$B" secret ""
case_ "--url" "$B" agent get-resource --u
case_ "agent" "$B" ag
case_ "attest" "$B" agent at
case_ "auto az-snp-vtpm sim snp tdx" "$B" agent attest --tee ""
case_ "writer" "$B" admin token --role w
case_ "az-snp-vtpm az-tdx-vtpm" "$B" verify az
case_ "--policy --product" "$B" verify snp --p
case_ "--repo" "$B" secret ls --r
case_ "verify verify-receipt" "$B" ledger verify
# no command of that name: nothing offered (bash then completes file names)
case_ "" "$B" frobnicate ""
# every command of the help is offered on an empty word
all=$(comp "$B" "")
for c in inspect verify bench sim agent secret policy refval ledger admin version help; do
        case " $all " in
        *" $c "*) ;;
        *) fail "veritee <TAB> lacks $c (got: $all)" ;;
        esac
done
ok "veritee <TAB> offers every command of --help"
finish "completion checks"
