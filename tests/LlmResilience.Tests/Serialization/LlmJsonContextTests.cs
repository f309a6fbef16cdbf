using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Serialization;

public sealed class LlmJsonContextTests
{
    public static TheoryData<Type> ResponseModels() =>
    [
        typeof(ChatCompletion),
        typeof(ChatChoice),
        typeof(ChatResponseMessage),
        typeof(ChatUsage),
        typeof(ChatPromptTokensDetails),
        typeof(ChatCompletionTokensDetails),
        typeof(ChatToolCall),
        typeof(ChatFunctionCall),
        typeof(ChatCompletionChunk),
        typeof(ChatChunkChoice),
        typeof(ChatMessageDelta),
        typeof(ChatToolCallDelta),
        typeof(ChatFunctionCallDelta),
    ];

    [Theory]
    [MemberData(nameof(ResponseModels))]
    public void ResponseModel_PublicProperties_CannotBeSetAfterConstruction(Type type)
    {
        var settable = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } setter
                && !setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit"))
            .Select(p => p.Name);

        Assert.Empty(settable);
    }

    [Theory]
    [MemberData(nameof(ResponseModels))]
    public void ResponseModel_Contract_CreatesObjectsWithoutTheConstructorPath(Type type)
    {
        // An init-only JSON property would make the generator read the type through its parameterized-constructor path,
        // which boxes numbers and allocates an argument state per object; then CreateObject is null.
        var typeInfo = LlmJsonContext.Default.GetTypeInfo(type)!;

        Assert.NotNull(typeInfo.CreateObject);
        Assert.All(JsonMembers(typeInfo), p => Assert.NotNull(p.Set));
    }

    [Theory]
    [MemberData(nameof(ResponseModels))]
    public void ResponseModel_EveryPublicPropertyWithASetter_HasAJsonMember(Type type)
    {
        // Each init-only property is [JsonIgnore]; an internal member with the wire name carries it in JSON.
        var jsonNames = JsonMembers(LlmJsonContext.Default.GetTypeInfo(type)!).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var initOnly = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetCustomAttribute<JsonIgnoreAttribute>() is not null)
            .Select(p => LlmJsonContext.Default.Options.PropertyNamingPolicy!.ConvertName(p.Name))
            .Select(name => name == "function_call" ? "function" : name);

        Assert.All(initOnly, name => Assert.Contains(name, jsonNames));
    }

    // The contract lists [JsonIgnore] properties too, without accessors.
    private static IEnumerable<JsonPropertyInfo> JsonMembers(JsonTypeInfo typeInfo) => typeInfo.Properties.Where(p => p.Get is not null);
}
