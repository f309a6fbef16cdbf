namespace LlmResilience.Doctor.Diagnosis;

/// <summary>Told what the walk is waiting for, so a console can show it while it waits.</summary>
internal interface IDoctorProgress
{
    /// <summary>The walk starts waiting for <paramref name="activity"/>, such as "Resolving api.openai.com".</summary>
    void Starting(string activity);
}

/// <summary>Progress nobody watches.</summary>
internal sealed class NoProgress : IDoctorProgress
{
    public static readonly NoProgress Instance = new();

    public void Starting(string activity)
    {
    }
}
