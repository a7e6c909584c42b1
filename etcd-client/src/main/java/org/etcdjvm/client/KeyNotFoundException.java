package org.etcdjvm.client;

/**
 * The key does not exist (error 100, `Key Not Found`). A get of a missing key throws it; use {@link GetRequest#orNull()} or {@link GetRequest#optional()} to get null or empty instead.
 */
public final class KeyNotFoundException extends EtcdException {
  /** Usually made by {@link EtcdException#of}; public for tests and fakes. */
  public KeyNotFoundException(String errorMessage, String cause, long index) {
    super(KEY_NOT_FOUND, errorMessage, cause, index);
  }
}
