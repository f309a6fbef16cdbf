using System.Text;

namespace LlmResilience.Tests.Serialization;

public sealed class OpenAiErrorBodyTests
{
    public static TheoryData<string, string, string?, string?, string?, string?> ErrorBodies => new()
    {
        {
            "OpenAI 429 tokens per minute",
            """{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}""",
            "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29500, Requested 1200. Please try again in 1.4s. Visit https://platform.openai.com/account/rate-limits to learn more.",
            "tokens", "rate_limit_exceeded", null
        },
        {
            "OpenAI 429 insufficient_quota",
            """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""",
            "You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", "insufficient_quota", null
        },
        {
            "OpenAI 400 context_length_exceeded",
            """
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens. Please reduce the length of the messages.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded"
                }
            }
            """,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens. Please reduce the length of the messages.",
            "invalid_request_error", "context_length_exceeded", "messages"
        },
        {
            "OpenAI 401 invalid_api_key",
            """{"error":{"message":"Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""",
            "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error", "invalid_api_key", null
        },
        {
            "numeric code",
            """{"error":{"message":"Rate limit exceeded","type":"rate_limit","code":429}}""",
            "Rate limit exceeded", "rate_limit", "429", null
        },
        {
            "Azure OpenAI 429, code as a numeric string",
            """{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}}""",
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.",
            null, "429", null
        },
        {
            "Azure content filter with innererror and numeric status",
            """{"error":{"message":"The response was filtered.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}""",
            "The response was filtered.", null, "content_filter", "prompt"
        },
        {
            "error as a string",
            """{"error":"Upstream request timed out"}""",
            "Upstream request timed out", null, null, null
        },
        {
            "top-level message (Azure API Management)",
            """{ "statusCode": 429, "message": "Rate limit is exceeded. Try again in 5 seconds." }""",
            "Rate limit is exceeded. Try again in 5 seconds.", null, null, null
        },
        {
            "top-level fields (vLLM)",
            """{"object":"error","message":"The model `llama-9` does not exist.","type":"NotFoundError","param":null,"code":404}""",
            "The model `llama-9` does not exist.", "NotFoundError", "404", null
        },
        {
            "array-wrapped error with status (Gemini)",
            """[{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}]""",
            "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED", "429", null
        },
        {
            "detail (FastAPI)",
            """{"detail":"Not Found"}""",
            "Not Found", null, null, null
        },
        {
            "nested error wins over top-level fields",
            """{"message":"outer","error":{"message":"inner","type":"t"},"code":"outer_code"}""",
            "inner", "t", "outer_code", null
        },
        {
            "unicode escapes and a byte order mark",
            "\uFEFF{\"error\":{\"message\":\"Caf\\u00e9 \\\"closed\\\"\",\"type\":\"server_error\"}}",
            "Café \"closed\"", "server_error", null, null
        },
    };

    public static TheoryData<string, string> NotErrorBodies => new()
    {
        { "HTML page", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>" },
        { "Envoy text", "upstream connect error or disconnect/reset before headers. reset reason: connection failure" },
        { "empty", "" },
        { "white space", " \r\n\t " },
        { "truncated JSON", """{"error":{"message":"Rate limit reached","type":"tok""" },
        { "truncated after the error", """{"error":{"message":"Rate limit reached"},""" },
        { "null", "null" },
        { "empty object", "{}" },
        { "null error", """{"error":null}""" },
        { "empty error object", """{"error":{}}""" },
        { "boolean error", """{"error":true}""" },
        { "unrelated object", """{"id":"chatcmpl-1","object":"chat.completion","choices":[]}""" },
        { "empty array", "[]" },
        { "array of strings", """["error"]""" },
        { "string", "\"Service Unavailable\"" },
        { "number", "503" },
    };

    [Theory]
    [MemberData(nameof(ErrorBodies))]
    public void TryParse_ErrorBody_ReadsTheError(string name, string body, string? message, string? type, string? code, string? param)
    {
        var parsed = OpenAiErrorBody.TryParse(Encoding.UTF8.GetBytes(body), out var error);

        Assert.True(parsed, name);
        Assert.Equal(new OpenAiError(message, type, code, param), error);
    }

    [Theory]
    [MemberData(nameof(NotErrorBodies))]
    public void TryParse_NotAnErrorBody_ReturnsFalse(string name, string body)
    {
        var parsed = OpenAiErrorBody.TryParse(Encoding.UTF8.GetBytes(body), out var error);

        Assert.False(parsed, name);
        Assert.Equal(default, error);
    }

    [Fact]
    public void TryParse_EveryPrefixOfABody_NeverThrowsAndNeedsTheWholeObject()
    {
        var body = Encoding.UTF8.GetBytes("""[{"error":{"message":"m\u00e9","type":"t","param":null,"code":429,"x":[1,{"y":null}],"status":"S"}}]""");
        var objectEnd = Array.LastIndexOf(body, (byte)'}') + 1;

        for (var length = 0; length <= body.Length; length++)
        {
            // Only the wrapping array of Gemini's shape may be cut off; the object itself must be whole.
            Assert.Equal(length >= objectEnd, OpenAiErrorBody.TryParse(body.AsSpan(0, length), out _));
        }
    }

    [Fact]
    public void TryParse_InvalidUtf8InAString_ReturnsFalse()
    {
        byte[] body = [.. """{"error":{"message":"bad """u8, 0xC3, 0x28, .. "\"}}"u8];

        Assert.False(OpenAiErrorBody.TryParse(body, out _));
    }

    [Fact]
    public void TryParse_DeepNesting_ReturnsFalse()
    {
        var body = Encoding.UTF8.GetBytes("{\"error\":" + new string('[', 10_000) + new string(']', 10_000) + "}");

        Assert.False(OpenAiErrorBody.TryParse(body, out _));
    }

    [Fact]
    public void TryParse_ErrorWithComments_ReadsTheError()
    {
        var parsed = OpenAiErrorBody.TryParse("""{"error":{"message":"m", /* a proxy's note */ "code":"c",},}"""u8, out var error);

        Assert.True(parsed);
        Assert.Equal(new OpenAiError("m", null, "c", null), error);
    }
}
