using System.Text;

namespace LlmResilience.Tests.Streaming;

public sealed class SseActivityScannerTests
{
    private static (bool Completed, bool SawData) Scan(ref SseActivityScanner scanner, string text)
    {
        var completed = scanner.Scan(Encoding.UTF8.GetBytes(text), out var sawData);
        return (completed, sawData);
    }

    [Fact]
    public void Scan_KeepAliveComments_AreNotData()
    {
        var scanner = default(SseActivityScanner);
        Assert.Equal((false, false), Scan(ref scanner, ": keep-alive\n\n: keep-alive\n\n"));
    }

    [Fact]
    public void Scan_DataEvent_CompletesOnBlankLine()
    {
        var scanner = default(SseActivityScanner);
        Assert.Equal((false, true), Scan(ref scanner, "data: {\"a\":1}\n"));
        Assert.Equal((true, false), Scan(ref scanner, "\n"));
    }

    [Fact]
    public void Scan_CrLfLineEndings_DoNotCompleteEarly()
    {
        var scanner = default(SseActivityScanner);
        Assert.Equal((false, true), Scan(ref scanner, "data: x\r\n"));
        Assert.Equal((true, false), Scan(ref scanner, "\r\n"));
    }

    [Fact]
    public void Scan_EventSplitAcrossReads_CompletesOnce()
    {
        var scanner = default(SseActivityScanner);
        Assert.Equal((false, true), Scan(ref scanner, "da"));
        Assert.Equal((false, true), Scan(ref scanner, "ta: hello"));
        Assert.Equal((false, true), Scan(ref scanner, " world\n"));
        Assert.Equal((true, false), Scan(ref scanner, "\n: ping\n\n"));
    }

    [Fact]
    public void Scan_CommentThenData_SeesData()
    {
        var scanner = default(SseActivityScanner);
        Assert.Equal((true, true), Scan(ref scanner, ": keep-alive\n\ndata: [DONE]\n\n"));
    }
}
