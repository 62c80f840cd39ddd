# bash completion for aurora-jail(1)

# The state directory aurora-jail would use: a --state-dir on the line (global or the
# command's, set by _aurora_jail), $AURORA_JAIL_STATE_DIR, then the per-uid default.
_aurora_jail_state_dir() {
    if [ -n "${_aurora_jail_line_state_dir:-}" ]; then
        printf '%s\n' "$_aurora_jail_line_state_dir"
    elif [ -n "${AURORA_JAIL_STATE_DIR:-}" ]; then
        printf '%s\n' "$AURORA_JAIL_STATE_DIR"
    elif [ "$EUID" -eq 0 ]; then
        printf '%s\n' /var/lib/aurora-jail
    else
        printf '%s\n' "${XDG_STATE_HOME:-$HOME/.local/state}/aurora-jail"
    fi
}

# Named policies: the files in the policy directories (the lookup order of
# policy/policy_dirs.hpp), without .json.
_aurora_jail_policy_names() {
    local d f user=""
    [ "$EUID" -eq 0 ] || user=${XDG_CONFIG_HOME:-$HOME/.config}/aurora-jail/policies
    for d in ${AURORA_JAIL_POLICY_DIR:+"$AURORA_JAIL_POLICY_DIR"} ${user:+"$user"} /etc/aurora-jail/policies; do
        for f in "$d"/*.json; do
            [ -e "$f" ] || continue
            f=${f##*/}
            printf '%s\n' "${f%.json}"
        done
    done
}

# Staged plugin ids: the directory names in the plugin store (no command is run).
_aurora_jail_plugin_ids() {
    local f
    for f in "$(_aurora_jail_state_dir)"/plugins/*/; do
        [ -d "$f" ] || continue
        f=${f%/}
        f=${f##*/}
        case $f in .*) continue ;; esac
        printf '%s\n' "$f"
    done
}

_aurora_jail() {
    local cur prev words cword
    _init_completion || return

    local commands="run check learn policy stage plugins unstage status stop host submit"
    local i cmd="" sub=""
    _aurora_jail_line_state_dir=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --) return 0 ;;  # after --, the sandboxed command: complete nothing of ours
            --state-dir) ((i + 1 < cword)) && _aurora_jail_line_state_dir=${words[i + 1]}; ((i++)) ;;
            --policy | --policy-dir | --plugin | --workdir | --report | --bpf | --timeout | --workers | --warm | --output | \
                --grace | --max-output | --wait-timeout) ((i++)) ;;  # and its value
            -*) ;;
            *)
                if [ -z "$cmd" ]; then
                    cmd=${words[i]}
                elif [ "$cmd" = policy ] && [ -z "$sub" ]; then
                    sub=${words[i]}
                fi
                ;;
        esac
    done

    case $prev in
        --policy)
            COMPREPLY=($(compgen -W "$(_aurora_jail_policy_names)" -- "$cur"))
            _filedir json  # or a policy file (appends)
            return 0
            ;;
        --plugin)
            COMPREPLY=($(compgen -W "$(_aurora_jail_plugin_ids)" -- "$cur"))
            return 0
            ;;
        --network)
            COMPREPLY=($(compgen -W "host none" -- "$cur"))
            return 0
            ;;
        --bind | --ro-bind)
            _filedir
            return 0
            ;;
        --state-dir | --workdir | --policy-dir | --queue-dir)
            _filedir -d
            return 0
            ;;
        --report | --bpf | --pidfile | --log | --output)
            _filedir
            return 0
            ;;
        --timeout | --workers | --warm | --grace | --max-output | --wait-timeout | --report-fd | --memory | --memory-mb | --cpus | --pids | -c)
            return 0
            ;;
    esac

    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands --state-dir --help --version" -- "$cur"))
        return 0
    fi

    local opts="--help"
    case $cmd in
        run) opts+=" --policy --policy-dir --plugin --workdir --timeout --memory --memory-mb --cpus --pids --bind --ro-bind --network --json --report --report-fd --detach --rm --require-isolation --pass-stdio --state-dir --" ;;
        check) opts+=" --json" ;;
        learn) opts+=" --policy --policy-dir --workdir --timeout --output --" ;;
        policy)
            if [ -z "$sub" ]; then
                COMPREPLY=($(compgen -W "validate show compile write list --help" -- "$cur"))
                return 0
            fi
            case $sub in
                validate) _filedir json; return 0 ;;
                show | compile)
                    opts+=" --bpf --policy-dir"
                    if [[ $cur != -* ]]; then
                        COMPREPLY=($(compgen -W "$(_aurora_jail_policy_names)" -- "$cur"))
                        _filedir json
                        return 0
                    fi
                    ;;
                write) opts+=" --policy-dir"
                    [[ $cur != -* ]] && { _filedir json; return 0; } ;;
                list) opts+=" --policy-dir" ;;
            esac
            ;;
        stage) opts+=" --state-dir"
            [[ $cur != -* ]] && { _filedir -d; return 0; } ;;
        plugins) opts+=" --json --state-dir" ;;
        unstage) opts+=" --state-dir"
            [[ $cur != -* ]] && { COMPREPLY=($(compgen -W "$(_aurora_jail_plugin_ids)" -- "$cur")); return 0; } ;;
        status) opts+=" --json --prune --state-dir" ;;
        stop) opts+=" --grace --state-dir" ;;
        host) opts+=" --workers --warm --max-output --queue-dir --daemonize --pidfile --log --state-dir" ;;
        submit) opts+=" --plugin --timeout --memory-mb -c --wait --wait-timeout --state-dir --" ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return 0
} &&
    complete -F _aurora_jail aurora-jail
