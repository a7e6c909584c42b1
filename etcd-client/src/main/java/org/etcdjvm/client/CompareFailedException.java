package org.etcdjvm.client;

/**
 * The compare of a compare-and-set or create failed (error 101): the key's current value differs from the expected one, or, for {@link EtcdClient#create}, the key already exists. {@link #cause()} reads {@code TestAndSet: <current>!=<expected>}.
 */
public final class CompareFailedException extends EtcdException {
  /** Usually made by {@link EtcdException#of}; public for tests and fakes. */
  public CompareFailedException(String errorMessage, String cause, long index) {
    super(TEST_FAILED, errorMessage, cause, index);
  }
}
