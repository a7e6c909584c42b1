package org.etcdjvm.embedded.internal.raft;

/**
 * A write refused before anything was appended: the data directory's disk has less free space than
 * this node keeps ({@link DiskSpace}). The HTTP layer answers 507 with error 300 and this message.
 */
public final class DiskFullException extends Exception {
  private static final long serialVersionUID = 1L;

  public DiskFullException(String message) {
    super(message, null, false, false);
  }
}
