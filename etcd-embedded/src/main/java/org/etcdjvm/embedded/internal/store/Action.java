package org.etcdjvm.embedded.internal.store;

/** The {@code action} of an etcd 0.1.x response; serialised upper case, exactly as named. */
public enum Action {
  GET,
  SET,
  DELETE
}
