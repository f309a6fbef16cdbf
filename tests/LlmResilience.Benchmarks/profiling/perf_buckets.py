#!/usr/bin/env python3
"""Per-client CPU breakdown of a `--throughput --round-times` run profiled with `perf record -k CLOCK_MONOTONIC -g`.

    perf_buckets.py perf.script windows.txt [--hz 499] [--base BareFactory] [--compare OursDI] [--top 30]

perf.script comes from `perf script -F comm,tid,time,period,ip,sym,dso`; windows.txt holds the benchmark's
`# window CLIENT ROUND START END REQUESTS` lines (CLOCK_MONOTONIC seconds). Each sample is given to the client whose
round was running, then to a bucket: the innermost frame, from the leaf up, that belongs to a known component, skipping
native frames and generic ones (async builders, tasks, the thread pool, spans, casts), so that the runtime helpers and
async plumbing a component calls count as its own. CPU per request = samples x (1/hz) / requests in those rounds.

Server threads (those whose stacks ever show LoopbackServer: perf loses some thread names, and stacks that end in
libc's send/recv have no managed frame) and the background JIT thread are reported apart, as the benchmark does.
"""
import argparse
import bisect
import collections
import re

TIER = re.compile(r'\[(OptimizedTier1OSR|OptimizedTier1|Optimized|Tier1|Tier0|QuickJitted|InstrumentedTierOptimized|InstrumentedTier1|InstrumentedTier|Instrumented|OSR|PreJIT)\]')
ABBREV = [('System.Runtime.CompilerServices.', ''), ('System.Threading.Tasks.', ''), ('System.Net.Http.', 'Http.'),
          ('System.Text.Json.Serialization.', 'STJ.'), ('System.Text.Json.', 'STJ.'), ('Microsoft.Extensions.', 'M.E.'),
          ('System.Threading.', 'Threading.'), ('System.Net.Sockets.', 'Sockets.')]

# (bucket, pattern on the abbreviated managed frame); the first component frame from the leaf up decides.
RULES = [
    ('Polly (pipeline, timeout strategy, pools)', r'^Polly\.'),
    ('CancellationTokenSource / timers', r'^Threading\.(CancellationTokenSource|CancellationToken|TimerQueue|Timer\b|CancellationTokenRegistration)'),
    ('IHttpClientFactory logging handlers', r'^M\.E\.(Http\.Logging|Logging)\.'),
    ('LlmResilienceHandler (own code)', r'^LlmResilience\.(LlmResilienceHandler|BufferedBodyContent|MediaTypes|Endpoints|FirstEventReader)'),
    ('RecyclingConnectionHandler + ResponseDecompression', r'^LlmResilience\.(RecyclingConnectionHandler|ResponseDecompression)'),
    ('ChatCompletionsClient (own code)', r'^LlmResilience\.(ChatCompletionsClient|ChatCompletionRequest|ChatMessage\b|ChatMessage::|LlmErrorMapper)'),
    ('benchmark caller / bare client code', r'^LlmResilience\.Benchmarks\.(?!BenchClients::CreateBareMessage)'),
    ('HTTP headers (System.Net.Http.Headers)', r'^Http\.Headers\.'),
    ('HttpClient + handler chain (HttpClient, DiagnosticsHandler, RedirectHandler, ...)',
     r'^Http\.(HttpClient|DiagnosticsHandler|RedirectHandler|DelegatingHandler|HttpMessageInvoker|HttpClientHandler|SocketsHttpHandler|HttpMessageHandlerStage|HttpRequestMessage|HttpResponseMessage|HttpContent|ByteArrayContent|UriRedaction|HttpConnectionPoolManager)'),
    ('HTTP/1.1 connection + pool (System.Net.Http)', r'^Http\.'),
    ('Sockets engine (managed)', r'^(Sockets\.|Interop|System\.Net\.)'),
]
GENERIC = re.compile(
    r'^(AsyncTaskMethodBuilder|AsyncValueTaskMethodBuilder|PoolingAsyncValueTaskMethodBuilder|AsyncMethodBuilderCore|Task\b|Task`|Task:|ValueTask|'
    r'AwaitTaskContinuation|Threading\.(ExecutionContext|ThreadPool|PortableThreadPool|Thread\b|Thread\+|Thread:|LowLevel|Interlocked|Monitor|Lock|'
    r'Semaphore|SpinWait)|CastHelpers|System\.(Buffer|SpanHelpers|PackedSpanHelpers|Runtime|Object|String|Memory|Number|Globalization|Text\.|'
    r'Collections|Buffers|Array|Span|ReadOnlySpan|GC|Math|Enum|Uri|Type|Diagnostics)|Configured|TaskAwaiter|ValueTaskAwaiter|YieldAwaitable|IAsyncStateMachineBox)')


def short(sym):
    match = re.search(r'\[[^\]]+\] ([^\s(]+)\(', sym)
    name = match.group(1) if match else sym
    for long_, abbrev in ABBREV:
        name = name.replace(long_, abbrev)
    return name


def is_native(frame):
    return frame.startswith(('[', 'k:', 'stub ', '__')) or '!' in frame.split(' ')[0]


def parse(path):
    """Yields (time, comm, tid, frames leaf first)."""
    with open(path, errors='replace') as f:
        text = f.read()
    for block in text.split('\n\n'):
        lines = block.strip('\n').split('\n')
        if not lines or not lines[0].strip():
            continue
        head = lines[0].split()
        time, tid, comm = float(head[-2].rstrip(':')), head[-3], ' '.join(head[:-3])
        frames = []
        for line in lines[1:]:
            m = re.match(r'^\s*([0-9a-f]+) (.*) \((.*)\)$', line)
            if not m:
                continue
            sym, dso = m.group(2), m.group(3)
            lib = dso.split('/')[-1]
            if sym == '[unknown]':
                sym = ('[coreclr native]' if 'libcoreclr' in dso else '[clrjit]' if 'libclrjit' in dso
                       else '[kernel]' if 'kallsyms' in dso else f'[unknown {lib}]')
            elif 'kallsyms' in dso:
                sym = 'k:' + sym
            elif lib.startswith('lib') and '.so' in lib:
                sym = lib.split('.so')[0] + '!' + sym
            sym = TIER.sub('', sym).strip()
            frames.append(sym if is_native(sym) else short(sym))
        yield time, comm, tid, frames


def bucket(frames):
    if any(f in ('libc!__send', 'libc!__libc_recv', 'libc!__recv') for f in frames) or \
            any(f.startswith('dynamicClass::IL_STUB_PInvoke') for f in frames[:3]):
        return 'socket send/recv syscalls (with the kernel loopback path and the wake-up of the other side)'
    if any('epoll' in f for f in frames[:6]):
        return 'epoll wait/dispatch (kernel)'
    for f in frames:
        if f.startswith(('LlmResilience.LlmJsonContext', 'STJ.Metadata.JsonPropertyInfo', 'STJ.JsonSerializer')):
            return 'JSON parse (response)' if any(re.search(r'Read|Deserializ', x) for x in frames) else 'JSON write (request)'
    for f in frames:
        if is_native(f) or GENERIC.match(f):
            continue
        if re.match(r'^(STJ\..*(Read|Deserializ|Construct|Populate)|STJ\.Utf8JsonReader|STJ\.JsonReaderHelper|LlmResilience\..*Converter::Read|LlmResilience\.(RecentString|WellKnownString))', f):
            return 'JSON parse (response)'
        if re.match(r'^(STJ\.|LlmResilience\..*Converter::Write|LlmResilience\.JsonRequestContent|LlmResilience\.Benchmarks\.BenchClients::CreateBareMessage)', f):
            return 'JSON write (request)'
        for name, pattern in RULES:
            if re.match(pattern, f):
                return name
        return 'other: ' + f[:90]
    if any(re.match(r'^Threading\.(LowLevel|PortableThreadPool|ThreadPool)', f) for f in frames if not is_native(f)):
        return 'thread pool dispatch / spin-wait'
    return 'runtime / native, no managed frame'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('script')
    ap.add_argument('windows')
    ap.add_argument('--hz', type=float, default=499)
    ap.add_argument('--base', default=None)
    ap.add_argument('--compare', default='OursDI')
    ap.add_argument('--top', type=int, default=30)
    args = ap.parse_args()

    windows = []
    with open(args.windows) as f:
        for line in f:
            if line.startswith('# window '):
                _, _, client, rnd, start, end, requests = line.split()
                windows.append((float(start), float(end), client, int(rnd), int(requests)))
    windows.sort()
    starts = [w[0] for w in windows]
    clients = list(dict.fromkeys(w[2] for w in sorted(windows, key=lambda w: (w[3], w[0]))))
    base = args.base or clients[0]
    compare = args.compare if args.compare in clients else clients[-1]
    samples = list(parse(args.script))
    # perf attaches a moment after the first round may have started: a window only partly recorded counts the share of
    # its requests that fell in the recording (at the round's average rate).
    first, last = min(t for t, *_ in samples), max(t for t, *_ in samples)
    requests = collections.Counter()
    for start, end, client, rnd, n in windows:
        covered = max(0.0, min(end, last) - max(start, first)) / (end - start)
        if covered < 0.999:
            print(f'note: {client} round {rnd}: {100 * covered:.1f}% of its window was recorded')
        requests[client] += n * covered
    server_tids = {tid for _, comm, tid, frames in samples
                   if comm.startswith('loopback') or any('LoopbackServer' in x for x in frames)}
    buckets = collections.defaultdict(collections.Counter)
    exclusive = collections.defaultdict(collections.Counter)
    inclusive = collections.defaultdict(collections.Counter)
    for time, comm, tid, frames in samples:
        i = bisect.bisect_right(starts, time) - 1
        if i < 0 or time > windows[i][1]:
            continue  # between rounds
        client = windows[i][2]
        buckets[client]['__total'] += 1
        if tid in server_tids:
            buckets[client]['(server threads)'] += 1
            continue
        if comm.startswith('.NET Tiered'):
            buckets[client]['(background JIT)'] += 1
            continue
        buckets[client]['__client'] += 1
        buckets[client][bucket(frames)] += 1
        first_managed = next((x for x in frames if not is_native(x)), '(native: ' + (frames[-1] if frames else '?') + ')')
        exclusive[client][first_managed] += 1
        for x in set(frames):
            if not is_native(x):
                inclusive[client][x] += 1

    us = {c: 1e6 / args.hz / max(1, requests[c]) for c in clients}
    print('CPU per request from the samples (µs): ' + ', '.join(
        f"{c} {buckets[c]['__total'] * us[c]:.1f} process / {buckets[c]['__client'] * us[c]:.1f} client" for c in clients))
    print()
    keys = {k for c in clients for k in buckets[c] if not k.startswith('__')}
    rows = sorted(keys, key=lambda k: -(buckets[compare][k] * us[compare] - buckets[base][k] * us[base]))
    print('| bucket (µs/req; % of the client\'s process samples) | ' + ' | '.join(clients) + f' | {compare} − {base} |')
    print('|---|' + '---:|' * (len(clients) + 1))
    for k in rows:
        values = [buckets[c][k] * us[c] for c in clients]
        if max(values) < 0.15:
            continue
        cells = ' | '.join(f"{v:.2f} ({100 * buckets[c][k] / max(1, buckets[c]['__total']):.1f}%)" for v, c in zip(values, clients))
        print(f'| {k} | {cells} | {values[clients.index(compare)] - values[clients.index(base)]:+.2f} |')
    totals = [buckets[c]['__total'] * us[c] for c in clients]
    print('| **total (process)** | ' + ' | '.join(f'{t:.1f}' for t in totals) +
          f' | {totals[clients.index(compare)] - totals[clients.index(base)]:+.1f} |')

    for c in (base, compare):
        print(f'\n{c}: top {args.top} frames by exclusive samples (the first managed frame from the leaf: self time plus the '
              f'runtime helpers and syscalls it calls), µs/req and % of its process samples')
        for k, v in exclusive[c].most_common(args.top):
            print(f"  {v * us[c]:6.2f} µs {100 * v / buckets[c]['__total']:5.1f}%  {k[:140]}")
        print(f'{c}: top {args.top} component frames by inclusive samples (async MoveNext frames include the continuations they resume)')
        shown = 0
        for k, v in inclusive[c].most_common():
            if GENERIC.match(k):
                continue
            print(f"  {v * us[c]:6.2f} µs {100 * v / buckets[c]['__total']:5.1f}%  {k[:140]}")
            shown += 1
            if shown == args.top:
                break


if __name__ == '__main__':
    main()
