"""The examples at the end of every command's ``--help``: short, and true.

Each command's examples are groups of command lines under a comment. They are written for
a sandbox (``eval "$(neon-keys sandbox start)"``: its organization and project ids) that
holds a few keys: personal key 100003 ``ci`` (secret in ``ci.token``), organization key
100004 ``deploy``, project key 100005 ``preview`` and personal key 100006 ``ci-nightly``.
The test suite makes that sandbox, runs every example of every command in it, in order,
and checks each one ends as shown: with status 0, or the status its ``# exits N`` says
(``tests/docs/test_help_examples.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import click

ORG = "org-cool-breeze-12345678"
PROJECT = "summer-haze-17190561"

_POLICY_FILE = (
    "printf '%s\\n' 'version = 1' '[scopes]' 'personal = true' '[[keys]]' \\\n"
    "    'name = \"ci\"' 'scope = \"personal\"' 'save = \"ci.token\"' > neon-keys.toml"
)
"""A small policy file, written by the examples of plan, apply and check."""

Examples = Sequence[tuple[str, Sequence[str]]]
"""(comment, commands) groups, in the order shown; a command may go on over several lines
(``\\`` and a line break), and a trailing ``# exits N`` says it ends with status N."""

EXAMPLES: dict[str, Examples] = {
    "": [
        (
            "Try it offline: a sandbox, a key for CI, the keys, an audit as a CI gate",
            [
                'eval "$(neon-keys sandbox start)"',
                "neon-keys create ci --save ci.token",
                "neon-keys list",
                "neon-keys audit --fail-on-findings",
                "neon-keys sandbox stop",
            ],
        ),
    ],
    "list": [
        (
            "Your personal keys; an organization's, as JSON",
            [
                "neon-keys list",
                f"neon-keys list --org {ORG} -o json",
            ],
        ),
        (
            "Keys unused for 90 days (or never), in every organization too",
            [
                "neon-keys list --all-orgs --unused-days 90",
            ],
        ),
        (
            "Only the ids of keys named ci-*, one per line (for neon-keys revoke -)",
            [
                "neon-keys list --quiet --name 'ci-*'",
            ],
        ),
    ],
    "create": [
        (
            "The secret alone on stdout, into a variable; the details on stderr",
            [
                "KEY=$(neon-keys create ci-temp)",
            ],
        ),
        (
            "An organization key, its secret in a new file (mode 0600)",
            [
                f"neon-keys create deploy-2 --org {ORG} --save deploy-2.token",
            ],
        ),
        (
            "A key scoped to one project, its secret set as PREVIEW_KEY in .env",
            [
                f"neon-keys create preview-2 --org {ORG} --project {PROJECT} \\\n"
                "    --dotenv .env --var PREVIEW_KEY",
            ],
        ),
    ],
    "revoke": [
        (
            "Revoke a key without the question (for scripts; a terminal asks first)",
            [
                "neon-keys revoke 100006 --yes",
            ],
        ),
        (
            "Revoke the keys a listing prints, reading their ids on stdin",
            [
                "neon-keys list --quiet --unused-days 90 | neon-keys revoke - --yes",
            ],
        ),
        (
            "Revoke an organization's keys by name; a key already gone is fine",
            [
                f"neon-keys revoke --name 'preview*' --org {ORG} --yes",
                "neon-keys revoke 100006 --yes --missing-ok",
            ],
        ),
    ],
    "rotate": [
        (
            "Replace key 100003: a new key, its secret into ci.token, then the old key revoked",
            [
                "neon-keys rotate 100003 --save ci.token --force",
            ],
        ),
        (
            "Replace an organization's key under a new name; the report as JSON",
            [
                f"neon-keys rotate 100004 --org {ORG} --name deploy-v2 \\\n"
                "    --save deploy.token --force -o json",
            ],
        ),
        (
            "Staged: keep the old key a day while services switch (neon-keys retire ends it)",
            [
                f"neon-keys rotate 100005 --org {ORG} --grace 1d --save preview.token --force",
            ],
        ),
    ],
    "retire": [
        (
            "Rotate key 100003 with a day of grace; a day later, retire revokes the old key",
            [
                "neon-keys rotate 100003 --grace 1d --save ci.token --force",
                "neon-keys sandbox advance 1d",
                "neon-keys retire --grace 1d --yes",
            ],
        ),
        (
            "Sooner: replaced keys unused for an hour, in every scope; first what would go",
            [
                f"neon-keys rotate 100004 --org {ORG} --grace 7d --save deploy.token --force",
                "neon-keys sandbox advance 2h",
                "neon-keys retire --all-orgs --quiet 1h --dry-run",
                "neon-keys retire --all-orgs --quiet 1h --yes -o json",
            ],
        ),
    ],
    "audit": [
        (
            "Never-used, stale and duplicate keys; exit 1 while one is active (a CI gate)",
            [
                "neon-keys audit --fail-on-findings",
            ],
        ),
        (
            "120 days later, the organization's idle keys are flagged, then revoked",
            [
                "neon-keys sandbox advance 120d",
                f"neon-keys audit --org {ORG} --unused-days 90 --revoke --yes",
            ],
        ),
    ],
    "whoami": [
        (
            "Which credential NEON_API_KEY is; then the one in a token file, as JSON",
            [
                "neon-keys whoami",
                'NEON_API_KEY="$(cat ci.token)" neon-keys -o json whoami',
            ],
        ),
    ],
    "orgs": [
        (
            "Your organizations, with the ids --org takes",
            [
                "neon-keys orgs",
                "neon-keys orgs -o json",
            ],
        ),
    ],
    "exec": [
        (
            "Run a command with a key of its own (in NEON_API_KEY), revoked when it ends",
            [
                "neon-keys exec --ttl 15m -- sh -c 'neon-keys whoami'",
            ],
        ),
        (
            "A project-scoped key as DEPLOY_KEY, checked before the command runs",
            [
                f"neon-keys exec --org {ORG} --project {PROJECT} --var DEPLOY_KEY --verify \\\n"
                "    -- sh -c 'test -n \"$DEPLOY_KEY\"'",
            ],
        ),
    ],
    "sweep": [
        (
            "What a scheduled job runs: first what would go, then revoke the expired leases",
            [
                "neon-keys sweep --dry-run",
                "neon-keys sweep",
            ],
        ),
        (
            "A personal lease nobody revoked is swept once expired (2 hours later, here)",
            [
                "neon-keys create job --ttl 1h --save job.token",
                "neon-keys sandbox advance 2h",
                "neon-keys sweep",
            ],
        ),
        (
            "The expired leases of your personal keys and every organization you belong to",
            [
                "neon-keys sweep --all-orgs",
            ],
        ),
    ],
    "plan": [
        (
            "A policy file for your personal key ci (its secret in ci.token); what apply would do",
            [
                _POLICY_FILE,
                "neon-keys plan  # exits 4",
            ],
        ),
        (
            "The plan as data, from a file elsewhere",
            [
                "neon-keys plan -f ./neon-keys.toml -o json  # exits 4",
            ],
        ),
    ],
    "apply": [
        (
            "Make the keys what the file says, without asking; then nothing is left to do",
            [
                _POLICY_FILE,
                "neon-keys apply --yes",
                "neon-keys plan",
            ],
        ),
        (
            "The outcome of each action as JSON, for a script",
            [
                "neon-keys apply --yes -o json",
            ],
        ),
    ],
    "check": [
        (
            "The rules of the file as a CI gate: ci-nightly is declared by no entry",
            [
                _POLICY_FILE,
                "neon-keys check  # exits 1",
            ],
        ),
        (
            "In a GitHub Actions job, each finding also as an annotation at its rule's line",
            [
                "neon-keys check --format github  # exits 1",
            ],
        ),
    ],
    "completion": [
        (
            "Tab completion in bash, from ~/.bashrc",
            [
                'eval "$(neon-keys completion bash)"',
            ],
        ),
        (
            "zsh: a file named _neon-keys in a folder of $fpath",
            [
                "neon-keys completion zsh > _neon-keys",
            ],
        ),
    ],
    "sandbox": [
        (
            "Start one in the background, use it, stop it",
            [
                'eval "$(neon-keys sandbox start)"',
                "neon-keys whoami",
                "neon-keys sandbox stop",
            ],
        ),
    ],
    "sandbox start": [
        (
            "Start, and load its settings into this shell; stop it",
            [
                'eval "$(neon-keys sandbox start)"',
                "neon-keys sandbox stop",
            ],
        ),
        (
            "Start, and write the settings to a dotenv file too",
            [
                "neon-keys sandbox start --env-file sandbox.env",
            ],
        ),
    ],
    "sandbox stop": [
        (
            "Stop the sandbox this shell started",
            [
                "neon-keys sandbox stop",
            ],
        ),
    ],
    "sandbox status": [
        (
            "Its clock and planned faults; as JSON",
            [
                "neon-keys sandbox status",
                "neon-keys sandbox status -o json",
            ],
        ),
    ],
    "sandbox advance": [
        (
            "Age every key by 120 days: the audit now flags the keys never used",
            [
                "neon-keys sandbox advance 120d",
                "neon-keys audit --fail-on-findings  # exits 1",
            ],
        ),
    ],
    "sandbox fault": [
        (
            "Lose the answer of the next create: the CLI names the key it may have made",
            [
                "neon-keys sandbox fault createApiKey lost-response",
                "neon-keys create lost --save lost.token  # exits 1",
            ],
        ),
        (
            "Make every listing fail with 503 until cleared",
            [
                "neon-keys sandbox fault listApiKeys status --status 503 --always",
                "neon-keys sandbox fault --clear",
            ],
        ),
    ],
}
"""Every command's examples, by command path (``"sandbox fault"``; ``""``: the program)."""


def epilog(examples: Examples) -> str:
    """The ``Examples:`` section of a help text (click keeps each ``\\b`` paragraph as is)."""
    paragraphs = []
    for comment, commands in examples:
        shown = [f"  $ {command}".replace("\n", "\n  ") for command in commands]
        paragraphs.append("\n".join(["\b", f"  # {comment}", *shown]))
    return "Examples:\n\n" + "\n\n".join(paragraphs)


def walk(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` with its path (``"sandbox fault"``), subgroups too
    (importing each command of the program, which is otherwise imported on first use)."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from walk(command, f"{path} ")


def add_examples(command: click.Command, path: str = "") -> None:
    """Give ``command``, whose path is ``path`` ("" for the program), and every command
    under it their examples (see ``EXAMPLES``).

    The program's group gets its own from ``_app``, and each of its commands, with the
    commands under it, gets theirs here as it is imported.
    """
    group = command if isinstance(command, click.Group) else None
    under = walk(group, f"{path} " if path else "") if group is not None else iter(())
    for where, each in [(path, command), *under]:
        if where in EXAMPLES:
            each.epilog = epilog(EXAMPLES[where])
