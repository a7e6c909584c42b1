package org.etcdjvm.embedded.internal.raft;

import io.atomix.primitive.PrimitiveBuilder;
import io.atomix.primitive.PrimitiveManagementService;
import io.atomix.primitive.PrimitiveType;
import io.atomix.primitive.PrimitiveTypeRegistry;
import io.atomix.primitive.config.PrimitiveConfig;
import io.atomix.primitive.service.PrimitiveService;
import io.atomix.primitive.service.ServiceConfig;
import java.util.Collection;
import java.util.List;
import org.etcdjvm.embedded.internal.store.EtcdStore;

/**
 * The Atomix primitive type of the etcd key store. One instance per node: the services it creates
 * all wrap that node's local {@link EtcdStore}, which is how the HTTP layer reads the replica
 * directly instead of through Raft queries.
 */
@SuppressWarnings("rawtypes")
final class EtcdPrimitiveType implements PrimitiveType, PrimitiveTypeRegistry {
  static final String NAME = "etcd-v1";

  private final EtcdStore store;

  EtcdPrimitiveType(EtcdStore store) {
    this.store = store;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PrimitiveConfig newConfig() {
    throw new UnsupportedOperationException("the etcd store is not built through Atomix's primitive builders");
  }

  @Override
  public PrimitiveBuilder newBuilder(String primitiveName, PrimitiveConfig config, PrimitiveManagementService managementService) {
    throw new UnsupportedOperationException("the etcd store is not built through Atomix's primitive builders");
  }

  @Override
  public PrimitiveService newService(ServiceConfig config) {
    return new EtcdStateMachine(store);
  }

  @Override
  public Collection<PrimitiveType> getPrimitiveTypes() {
    return List.of(this);
  }

  @Override
  public PrimitiveType getPrimitiveType(String typeName) {
    if (!NAME.equals(typeName)) {
      throw new IllegalArgumentException("unknown primitive type " + typeName);
    }
    return this;
  }
}
