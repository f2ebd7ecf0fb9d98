export {
  type IoRedisClient,
  type NodeRedisClient,
  type RedisClient,
  type RedisStoreOptions,
  redisStore,
} from "./redis-store";
