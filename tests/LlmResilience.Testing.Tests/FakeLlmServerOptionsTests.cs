using System.Text.Json;
using LlmResilience.Tests.Shared;

namespace LlmResilience.Testing.Tests;

public sealed class FakeLlmServerOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new FakeLlmServerOptions();

        Assert.Equal("fake-model", options.Model);
        Assert.Equal("Hello from FakeLlmServer.", options.DefaultContent);
        Assert.False(options.RequireApiKey);
        Assert.Null(options.ApiKey);
        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Null(options.LoggerFactory);
        Assert.False(options.UseHttps);
        Assert.Null(options.Certificate);
        Assert.Null(options.Protocols);
        Assert.Equal(0, options.Port);
        Assert.Equal(TimeSpan.Zero, options.StreamInterval);
    }

    [Fact]
    public async Task StreamInterval_Set_PacesTheStreamedOkAnswer()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { DefaultContent = "one two three", StreamInterval = TimeSpan.FromMilliseconds(50) });
        using var client = RawClient.Create();
        var started = System.Diagnostics.Stopwatch.StartNew();

        using var response = await RawClient.PostAsync(client, server, RawClient.StreamBody);
        var body = await response.Content.ReadAsStringAsync();

        // Three deltas and the finish chunk, each after a 50 ms pause.
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(190), $"The stream took only {started.ElapsedMilliseconds} ms.");
        Assert.Contains("[DONE]", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamInterval_Negative_Throws()
    {
        var exception = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => FakeLlmServer.StartAsync(new FakeLlmServerOptions { StreamInterval = TimeSpan.FromMilliseconds(-1) }));

        Assert.Equal("StreamInterval", exception.ParamName);
    }

    [Fact]
    public async Task Port_Fixed_ListensThereAndTheBaseAddressSaysSo()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { Port = port });
        using var client = RawClient.Create();
        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(port, server.Port);
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/v1/"), server.BaseAddress);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Port_InUse_ThrowsNamingThePortAndTheFix()
    {
        await using var first = await FakeLlmServer.StartAsync();

        var exception = await Assert.ThrowsAsync<IOException>(() => FakeLlmServer.StartAsync(new FakeLlmServerOptions { Port = first.Port }));

        Assert.Contains($"127.0.0.1:{first.Port}", exception.Message, StringComparison.Ordinal);
        Assert.Contains("FakeLlmServerOptions.Port", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public async Task Port_OutOfRange_Throws(int port)
    {
        var exception = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => FakeLlmServer.StartAsync(new FakeLlmServerOptions { Port = port }));

        Assert.Equal("Port", exception.ParamName);
    }

    [Fact]
    public async Task StartAsync_Http2WithoutHttps_ThrowsNamingTheFix()
    {
        var exception = await Assert.ThrowsAsync<ArgumentException>(() => FakeLlmServer.StartAsync(
            new FakeLlmServerOptions { Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2 }));

        Assert.Equal("Protocols", exception.ParamName);
        Assert.Contains("UseHttps", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UseHttps_ServesTlsWithASelfSignedCertificateForLoopback()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { UseHttps = true });
        var certificate = server.Certificate!;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString();
        using var client = new HttpClient(handler);

        using var response = await RawClient.PostAsync(client, server);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Uri.UriSchemeHttps, server.BaseAddress.Scheme);
        Assert.True(certificate.MatchesHostname("localhost"));
        Assert.True(certificate.MatchesHostname("127.0.0.1"));
        Assert.Equal("HTTP/1.1", server.Requests.Single().Protocol); // HttpClient's default version, no upgrade asked for
    }

    [Fact]
    public async Task ModelAndDefaultContent_Set_AreEchoedInResponses()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { Model = "gpt-4o-mini", DefaultContent = "Bonjour." });
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("gpt-4o-mini", json.RootElement.GetProperty("model").GetString());
        Assert.Equal("Bonjour.", json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Options_ChangedAfterStart_DoNotAffectTheServer()
    {
        var options = new FakeLlmServerOptions { Model = "before" };
        await using var server = await FakeLlmServer.StartAsync(options);
        options.Model = "after";
        using var client = RawClient.Create();

        using var response = await RawClient.PostAsync(client, server);

        Assert.Contains("\"model\":\"before\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_Blank_StartThrows()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => FakeLlmServer.StartAsync(new FakeLlmServerOptions { Model = " " }));
    }

    [Fact]
    public async Task LoggerFactory_Set_ReceivesKestrelAndHostingLogs()
    {
        using var logs = new CapturingLoggerProvider();

        await using (var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { LoggerFactory = logs }))
        {
            using var client = RawClient.Create();
            using (await RawClient.PostAsync(client, server))
            {
            }
        }

        Assert.Contains(logs.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoggerFactory_RequestsWithApiKeys_LogNoKey()
    {
        using var logs = new CapturingLoggerProvider();

        await using (var server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { LoggerFactory = logs, RequireApiKey = true, ApiKey = RawClient.ApiKey }))
        {
            using var client = RawClient.Create();
            using var bearer = RawClient.Chat(server);
            using var azure = RawClient.Chat(server);
            azure.Headers.Add("api-key", RawClient.ApiKey);
            using var wrongKey = RawClient.Chat(server);
            wrongKey.Headers.Authorization = new("Bearer", "sk-wrong-key-5678");
            using (await client.SendAsync(bearer))
            using (await client.SendAsync(azure))
            using (await client.SendAsync(wrongKey))
            {
            }
        }

        // Every level is captured (Kestrel and hosting log at Debug and Trace too): none of it may carry a key.
        Assert.NotEmpty(logs.Entries);
        Assert.DoesNotContain(RawClient.ApiKey, logs.AllText(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-wrong-key-5678", logs.AllText(), StringComparison.Ordinal);
    }
}
