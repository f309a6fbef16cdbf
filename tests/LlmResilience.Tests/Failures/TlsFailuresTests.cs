using System.Security.Authentication;

namespace LlmResilience.Tests.Failures;

/// <summary>The classification of TLS handshake failures; the real ones, over sockets, are in Connections/TlsTests.</summary>
public sealed class TlsFailuresTests
{
    private static HttpRequestException Handshake(string authenticationMessage, Exception? inner = null) =>
        new(HttpRequestError.SecureConnectionError, "The SSL connection could not be established, see inner exception.",
            new AuthenticationException(authenticationMessage, inner));

    [Theory]
    [InlineData("The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot", "untrusted certificate")]
    [InlineData("The remote certificate is invalid because of errors in the certificate chain: PartialChain", "untrusted certificate")]
    [InlineData("The remote certificate is invalid according to the validation procedure: RemoteCertificateNameMismatch", "name mismatch")]
    [InlineData("Cannot determine the frame size or a corrupted frame was received.", "does not speak TLS")]
    [InlineData("The remote certificate is invalid because of errors in the certificate chain: NotTimeValid", "certificate rejected")]
    [InlineData("The remote certificate was rejected by the provided RemoteCertificateValidationCallback.", "certificate rejected")]
    public void Classify_CertificateProblem_IsANonRetriedConnectFailureNotCountedForRecycling(string message, string described)
    {
        var exception = Handshake(message);

        Assert.Equal((LlmFailureKind.ConnectFailure, false), TransportFailures.Classify(exception));
        Assert.False(TransportFailures.IsTransportFailure(exception));
        Assert.EndsWith(described, TransportFailures.Describe(exception), StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_HandshakeCutShortWithoutACertificateVerdict_StaysARetriedTransportFailure()
    {
        var exception = Handshake("Authentication failed, see inner exception.", new IOException("Connection reset by peer"));

        Assert.Null(TransportFailures.FindTlsProblem(exception));
        Assert.Equal((LlmFailureKind.ConnectFailure, true), TransportFailures.Classify(exception));
        Assert.True(TransportFailures.IsTransportFailure(exception));
        Assert.Equal("TLS handshake failed", TransportFailures.Describe(exception));
    }
}
