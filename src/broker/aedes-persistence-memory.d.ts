// aedes-persistence ships types for its in-memory class under types/, but not beside the file
// it lives in; point the deep import at them. (The module is CommonJS: its default import is
// the class.)
declare module 'aedes-persistence/asyncPersistence.js' {
  import MemoryPersistence from 'aedes-persistence/types/asyncPersistence.js';
  export default MemoryPersistence;
}
