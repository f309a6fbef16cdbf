using LlmResilience.Doctor.Diagnosis;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace LlmResilience.Doctor.Cli;

/// <summary>The human report: a spinner naming what the walk waits for, then a table of the steps and one of the findings.</summary>
internal static class ConsoleOutput
{
    public static async Task<DoctorReport> RunAsync(DoctorSettings settings, DoctorHost host, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(host.Out),
            Ansi = host.Interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = host.Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = host.Interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!host.Interactive)
        {
            console.Profile.Width = 120;
        }

        console.MarkupLine($"[bold]llm-doctor[/] {Markup.Escape(Endpoints.Describe(settings.BaseAddress))}");
        DoctorReport report;
        if (host.Interactive)
        {
            report = await console.Status().Spinner(Spinner.Known.Dots).StartAsync("Starting", async status =>
                await new DoctorEngine(settings, new StatusProgress(status)).RunAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        }
        else
        {
            report = await new DoctorEngine(settings).RunAsync(cancellationToken).ConfigureAwait(false);
        }

        Render(console, report);
        return report;
    }

    internal static void Render(IAnsiConsole console, DoctorReport report)
    {
        var steps = new Table().Border(TableBorder.Rounded).Expand();
        steps.AddColumn("Step");
        steps.AddColumn("Result");
        steps.AddColumn(new TableColumn("Time").RightAligned());
        steps.AddColumn("What was seen");
        foreach (var step in report.Steps)
        {
            var seen = new List<IRenderable> { new Text(step.Summary) };
            seen.AddRange(step.Details.Select(d => new Text(d, new Style(Color.Grey))));
            steps.AddRow(
                new Text(step.Name),
                Result(step.Outcome),
                new Text(step.Elapsed is { } elapsed ? Findings.Ms(elapsed) : string.Empty),
                new Rows(seen));
        }

        console.Write(steps);
        if (report.Healthy)
        {
            console.MarkupLine("[green]Healthy: no problems found.[/]");
            return;
        }

        var findings = new Table().Border(TableBorder.Rounded).Expand().Title("What is wrong");
        findings.AddColumn("Cause");
        findings.AddColumn("What was seen");
        findings.AddColumn("Fix");
        foreach (var finding in report.Findings)
        {
            findings.AddRow(new Text(finding.Code, new Style(Color.Red)), new Text(finding.Summary), new Text(finding.Fix));
        }

        console.Write(findings);
        console.MarkupLine(report.Findings.Count == 1 ? "[red]1 problem found.[/]" : $"[red]{report.Findings.Count} problems found.[/]");
    }

    private static Text Result(StepOutcome outcome) => outcome switch
    {
        StepOutcome.Ok => new Text("ok", new Style(Color.Green)),
        StepOutcome.Warning => new Text("warning", new Style(Color.Yellow)),
        StepOutcome.Failed => new Text("FAILED", new Style(Color.Red)),
        _ => new Text("skipped", new Style(Color.Grey)),
    };

    /// <summary>Shows what the walk waits for on the spinner's line.</summary>
    private sealed class StatusProgress(StatusContext status) : IDoctorProgress
    {
        public void Starting(string activity) => status.Status(Markup.Escape(activity + "…"));
    }
}
