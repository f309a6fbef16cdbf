namespace LlmResilience;

/// <summary>How one attempt ended.</summary>
internal enum AttemptEnd
{
    /// <summary>Still running.</summary>
    Running = 0,

    /// <summary>A success status, and (non-streamed) the whole body or (streamed) the first event was read.</summary>
    Succeeded,

    /// <summary>An error status, or a transport or body failure.</summary>
    Failed,

    /// <summary>AttemptTimeout expired.</summary>
    AttemptTimedOut,

    /// <summary>TotalTimeout expired while it ran.</summary>
    TotalTimedOut,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}
