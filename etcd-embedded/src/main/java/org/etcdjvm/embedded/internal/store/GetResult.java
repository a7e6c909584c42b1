package org.etcdjvm.embedded.internal.store;

import java.util.List;

/**
 * The result of {@link EtcdStore#get}: either one file (a GET event) or a directory listing (GET
 * events of its immediate children, sorted by key). Exactly one of the two is non-null. Immutable
 * and thread-safe.
 *
 * @param node     the file's GET event, or null for a directory
 * @param children the directory's children, or null for a file
 */
public record GetResult(Event node, List<Event> children) {
  public GetResult {
    if ((node == null) == (children == null)) {
      throw new IllegalArgumentException("exactly one of node and children must be non-null");
    }
    if (children != null) {
      children = List.copyOf(children);
    }
  }

  /** Whether this is a directory listing. */
  public boolean isDirectory() {
    return children != null;
  }
}
