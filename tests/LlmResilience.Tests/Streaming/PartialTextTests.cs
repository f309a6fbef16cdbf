using System.Text;

namespace LlmResilience.Tests.Streaming;

public sealed class PartialTextTests
{
    [Fact]
    public void ToString_NothingAppended_IsEmpty()
    {
        var text = default(PartialText);

        Assert.Equal(string.Empty, text.ToString());
        text.Dispose();
    }

    [Fact]
    public void Append_ManyDeltasPastEveryGrowth_KeepsTheTextInOrder()
    {
        var text = default(PartialText);
        var expected = new StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            var delta = i % 7 == 0 ? new string('x', 900) : $"token {i} ";
            text.Append(delta);
            expected.Append(delta);
        }

        Assert.Equal(expected.Length, text.Length);
        Assert.Equal(expected.ToString(), text.ToString());
        text.Dispose();
        Assert.Equal(string.Empty, text.ToString());
    }

    [Fact]
    public void Dispose_Twice_IsHarmless()
    {
        var text = default(PartialText);
        text.Append("Hi");

        text.Dispose();
        text.Dispose();

        Assert.Equal(0, text.Length);
    }
}
