namespace CvmControl.Identity;

/// <summary>A listener the daemon was asked for cannot be served; the message says which and why.</summary>
internal sealed class ListenerException(string message) : Exception(message);
