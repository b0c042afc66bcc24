"""Executes one notebook with nbclient; prints a JSON summary as the last line of stdout.

tslab reports a failed cell only as `status: error` in execute_reply (no `error` output), so the
reply is hooked; stderr stream outputs count as problems too. Jupyter's `raises-exception` tag is
not honoured: after a failure tslab aborts the cells queued behind it (tslab#19), so "Run All"
would stop there for a learner. The executed notebook is written even on failure.

With --progress, a line per finished cell goes to stderr ("progress: cell 3/12 4.1s <first line>"),
for the caller to show while a long notebook runs.

usage: run_notebook.py IN OUT --kernel tslab --timeout SECONDS --cwd DIR [--progress]
"""
import argparse
import json
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def head(source, lines=3):
    text = '\n'.join(source.splitlines()[:lines])
    return text + (' ...' if len(source.splitlines()) > lines else '')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('input')
    ap.add_argument('output')
    ap.add_argument('--kernel', default='tslab')
    ap.add_argument('--timeout', type=int, default=3600)
    ap.add_argument('--cwd', required=True)
    ap.add_argument('--progress', action='store_true')
    args = ap.parse_args()

    nb = nbformat.read(args.input, as_version=4)
    code_cells = sum(1 for c in nb.cells if c.cell_type == 'code' and c.source.strip())  # nbclient skips empty ones
    problems = []
    executed = []
    started = [time.monotonic()]

    def on_cell_start(cell, cell_index):
        started[0] = time.monotonic()

    def on_cell_executed(cell, cell_index, execute_reply):
        executed.append(cell_index)
        if args.progress:
            first = next((line for line in cell.source.splitlines() if line.strip()), '')[:60]
            print(f'progress: cell {len(executed)}/{code_cells} {time.monotonic() - started[0]:.1f}s  {first}',
                  file=sys.stderr, flush=True)
        status = execute_reply['content'].get('status')
        if status != 'ok':
            message = f'execute_reply status {status}'
            if 'raises-exception' in cell.get('metadata', {}).get('tags', []):
                message += ' (tagged raises-exception, but tslab aborts the cells after a failure: catch and print instead)'
            problems.append({'cell': cell_index, 'kind': 'error', 'message': message, 'source': head(cell.source)})

    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout, startup_timeout=120,
                            force_raise_errors=True, resources={'metadata': {'path': args.cwd}},
                            on_cell_start=on_cell_start, on_cell_executed=on_cell_executed)
    start = time.monotonic()
    try:
        client.execute()
    except CellExecutionError:
        pass  # already recorded by on_cell_executed, with the cell's stderr below
    except (CellTimeoutError, DeadKernelError) as e:
        problems.append({'cell': None, 'kind': type(e).__name__, 'message': str(e).strip()[:2000]})
    except Exception as e:  # kernel would not start, bad notebook, ...
        problems.append({'cell': None, 'kind': type(e).__name__, 'message': str(e).strip()[:2000]})
    seconds = time.monotonic() - start

    for i, cell in enumerate(nb.cells):
        if cell.cell_type != 'code':
            continue
        for out in cell.get('outputs', []):
            if out.output_type == 'stream' and out.name == 'stderr':
                problems.append({'cell': i, 'kind': 'stderr', 'message': out.text.strip()[:2000],
                                 'source': head(cell.source)})
            elif out.output_type == 'error':
                problems.append({'cell': i, 'kind': 'error', 'message': f"{out.ename}: {out.evalue}",
                                 'source': head(cell.source)})

    nbformat.write(nb, args.output)
    print(json.dumps({'seconds': seconds, 'cells': code_cells, 'executed': len(executed), 'problems': problems}))


if __name__ == '__main__':
    main()
