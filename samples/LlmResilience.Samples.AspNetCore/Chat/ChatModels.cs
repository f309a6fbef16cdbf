namespace LlmResilience.Samples.AspNetCore.Chat;

/// <summary>The body of <c>POST /chat</c> and <c>POST /chat/stream</c>.</summary>
/// <param name="Message">What the user typed.</param>
internal sealed record ChatInput(string? Message);

/// <summary>The answer of <c>POST /chat</c>.</summary>
/// <param name="Text">The model's answer.</param>
internal sealed record ChatOutput(string Text);

/// <summary>One <c>data:</c> event of <c>POST /chat/stream</c>: the next piece of the answer.</summary>
/// <param name="Text">The piece.</param>
internal sealed record TokenEvent(string Text);
