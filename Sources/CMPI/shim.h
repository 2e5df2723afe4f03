// Open MPI's predefined handles are macros over globals of incomplete type, which Swift cannot import.
// These getters hand them to Swift as ordinary values.
#include <mpi.h>

static inline MPI_Comm l2c_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype l2c_type_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype l2c_type_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype l2c_type_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype l2c_type_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype l2c_type_uint16(void) { return MPI_UINT16_T; }
static inline MPI_Op l2c_op_sum(void) { return MPI_SUM; }
static inline MPI_Op l2c_op_max(void) { return MPI_MAX; }
static inline MPI_Op l2c_op_min(void) { return MPI_MIN; }
static inline void *l2c_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *l2c_status_ignore(void) { return MPI_STATUS_IGNORE; }
