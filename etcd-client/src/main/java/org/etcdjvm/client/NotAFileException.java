package org.etcdjvm.client;

/**
 * The key is a directory where a file was needed, or a path component is a file (error 102, `Not A File`). Raised by etcd for a set through or onto a directory, and by this client for a {@link EtcdClient#get get} of a directory (use {@link EtcdClient#list list} for those).
 */
public final class NotAFileException extends EtcdException {
  /** Usually made by {@link EtcdException#of}; public for tests and fakes. */
  public NotAFileException(String errorMessage, String cause, long index) {
    super(NOT_FILE, errorMessage, cause, index);
  }
}
