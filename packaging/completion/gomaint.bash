# bash completion for gomaint(8)

_gomaint() {
    local cur prev words cword
    _init_completion || return

    local common="--system --config --log"
    case $prev in
        --config)
            _filedir toml
            return
            ;;
        --log)
            COMPREPLY=($(compgen -W 'auto journal stderr none' -- "$cur"))
            return
            ;;
        --fail-on)
            COMPREPLY=($(compgen -W 'info warning error' -- "$cur"))
            return
            ;;
        --goroot)
            _filedir -d
            return
            ;;
        --summary)
            _filedir
            return
            ;;
        --target | --max-size | --max-age | --expect-version | --workers | --wait | --name)
            return
            ;;
    esac

    # The command is the first word that is not a flag or a flag's value.
    local i cmd="" sub=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --config | --log | --fail-on | --goroot | --target | --max-size | --max-age | --expect-version | --workers | --wait | --name | --summary)
                ((i++))
                ;;
            --)
                # gomaint run -- COMMAND: the rest is the command's.
                if [[ $cmd == run ]]; then
                    _command_offset $((i + 1))
                    return
                fi
                ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=${words[i]}
                elif [[ -z $sub ]]; then
                    sub=${words[i]}
                fi
                ;;
        esac
    done

    local flags=""
    case $cmd in
        "")
            # Before the command: the flags of every command, or a command.
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$common" -- "$cur"))
            else
                COMPREPLY=($(compgen -W 'audit clean fix verify protect check serve status stats run alert config version help' -- "$cur"))
            fi
            return
            ;;
        audit) flags="--json --fail-on --target --goroot --expect-version --workers" ;;
        clean) flags="--dry-run --json --target --max-size --max-age" ;;
        fix) flags="--dry-run --json --target" ;;
        verify) flags="--json --full --fail-on --target" ;;
        protect) flags="--dry-run" ;;
        serve) flags="" ;;
        status) flags="--json" ;;
        stats) flags="--json --target --zero" ;;
        run) flags="--prune --dry-run --json --summary --target --" ;;
        alert)
            case $sub in
                "")
                    COMPREPLY=($(compgen -W 'list flush test' -- "$cur"))
                    return
                    ;;
                list) flags="--json" ;;
                flush) flags="--wait --json" ;;
                test) flags="--name --json" ;;
            esac
            ;;
        check)
            if [[ -z $sub ]]; then
                COMPREPLY=($(compgen -W 'goroot' -- "$cur"))
                return
            fi
            flags="--goroot --expect-version --json --verify --record"
            ;;
        config)
            if [[ -z $sub ]]; then
                COMPREPLY=($(compgen -W 'check show' -- "$cur"))
                return
            fi
            if [[ $sub == check && $cur != -* ]]; then
                _filedir toml
                return
            fi
            ;;
        version | help) return ;;
    esac
    COMPREPLY=($(compgen -W "$flags $common" -- "$cur"))
} &&
    complete -F _gomaint gomaint
