namespace CvmControl.Client;

/// <summary>Nothing answered: no connection, a failed TLS handshake, a broken-off reply or a timeout.</summary>
internal sealed class DaemonUnreachableException(string message) : Exception(message);

/// <summary>A connection presented a key other than the pinned one; the handshake was refused and nothing was sent on it.</summary>
internal sealed class KeyChangedException(string message) : Exception(message);
