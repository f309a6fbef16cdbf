using System.Text;

namespace LlmResilience.Benchmarks;

/// <summary><c>--check-server</c>: one call of each kind with each client, checked against what the server sent.</summary>
internal static class CheckServer
{
    public static async Task<int> RunAsync()
    {
        using var server = LoopbackServer.Start();
        using var clients = new BenchClients(server.BaseAddress);
        Console.WriteLine($"Loopback server at {server.BaseAddress}");
        Console.WriteLine($"Non-streamed response: {Payloads.CompletionResponse.Length} bytes ({Encoding.UTF8.GetByteCount(Payloads.CompletionJson)} bytes of JSON)");
        Console.WriteLine($"Streamed response: {Payloads.StreamResponse.Length} bytes, {Payloads.ChunksPerStream} chunks and [DONE]");
        var failures = 0;
        foreach (var kind in Enum.GetValues<ClientKind>())
        {
            var content = await clients.CompleteTextAsync(kind);
            var ok = content == Payloads.CompletionContent;
            failures += ok ? 0 : 1;
            Console.WriteLine($"{(ok ? "OK  " : "FAIL")} {kind,-12} non-streamed: {Shorten(content)}");
        }

        foreach (var kind in Enum.GetValues<ClientKind>())
        {
            var text = new StringBuilder();
            var chunks = await clients.StreamAsync(kind, text);
            var ok = text.ToString() == Payloads.StreamedContent && chunks == Payloads.ChunksPerStream;
            failures += ok ? 0 : 1;
            Console.WriteLine($"{(ok ? "OK  " : "FAIL")} {kind,-12} streamed: {chunks} chunks, {text.Length} chars: {Shorten(text.ToString())}");
        }

        // Proof that the server does not pollute the allocation figures: many more calls, then its counter.
        for (var i = 0; i < 200; i++)
        {
            foreach (var kind in Enum.GetValues<ClientKind>())
            {
                await clients.CompleteAsync(kind);
                await clients.StreamAsync(kind);
            }
        }

        Console.WriteLine(server.Describe());
        Console.WriteLine(failures == 0 ? "All clients parse the server's responses." : $"{failures} check(s) failed.");
        return failures == 0 ? 0 : 1;
    }

    private static string Shorten(string? text) =>
        text is null ? "(null)" : text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 28), " ... ", text.AsSpan(text.Length - 28));
}
