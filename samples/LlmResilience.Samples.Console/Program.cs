Console.WriteLine("LlmResilience sample: coming up.");
