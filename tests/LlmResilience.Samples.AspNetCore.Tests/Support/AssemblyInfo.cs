// WebApplicationFactory finds the app's host through a process-wide DiagnosticListener that takes the next host built
// in the process; FakeLlmServer is a host too. Two test classes starting their apps at once could hand one factory the
// other app's FakeLlmServer, so the classes of this assembly run one after another (tests within a class always do).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
