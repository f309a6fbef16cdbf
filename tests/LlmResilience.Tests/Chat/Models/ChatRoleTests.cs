using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatRoleTests
{
    [Fact]
    public void NamedRoles_Value_IsTheWireName()
    {
        Assert.Equal("system", ChatRole.System.Value);
        Assert.Equal("developer", ChatRole.Developer.Value);
        Assert.Equal("user", ChatRole.User.Value);
        Assert.Equal("assistant", ChatRole.Assistant.Value);
        Assert.Equal("tool", ChatRole.Tool.Value);
        Assert.Equal("tool", ChatRole.Tool.ToString());
    }

    [Fact]
    public void Equals_DifferentCase_IsEqual()
    {
        var upper = new ChatRole("USER");

        Assert.True(upper == ChatRole.User);
        Assert.False(upper != ChatRole.User);
        Assert.True(upper.Equals((object)ChatRole.User));
        Assert.Equal(ChatRole.User.GetHashCode(), upper.GetHashCode());
        Assert.NotEqual(ChatRole.User, ChatRole.Assistant);
    }

    [Fact]
    public void Default_Value_IsEmpty()
    {
        Assert.Equal(string.Empty, default(ChatRole).Value);
        Assert.NotEqual(ChatRole.User, default);
    }

    [Fact]
    public void Constructor_NullOrBlank_Throws()
    {
        Assert.Throws<ArgumentNullException>("value", () => new ChatRole(null!));
        Assert.Throws<ArgumentException>("value", () => new ChatRole(" "));
    }

    [Fact]
    public void Serialize_Role_WritesPlainString()
    {
        Assert.Equal("\"assistant\"", JsonSerializer.Serialize(ChatRole.Assistant, LlmJsonContext.Default.ChatRole));
        Assert.Equal("\"critic\"", JsonSerializer.Serialize(new ChatRole("critic"), LlmJsonContext.Default.ChatRole));
    }

    [Fact]
    public void Deserialize_String_ReadsRole()
    {
        Assert.Equal(ChatRole.User, JsonSerializer.Deserialize("\"user\"", LlmJsonContext.Default.ChatRole));
        Assert.Equal("critic", JsonSerializer.Deserialize("\"critic\"", LlmJsonContext.Default.ChatRole).Value);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("\"\"", LlmJsonContext.Default.ChatRole));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("1", LlmJsonContext.Default.ChatRole));
    }
}
