using LlmResilience.Doctor.Cli;

// llm-doctor: the thin shell over DoctorCommand (and its DoctorEngine), which tests run in-process.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await DoctorCommand.RunAsync(args, DoctorHost.FromProcess(), cancellation.Token).ConfigureAwait(false);
