/* The C future and task objects of CPython 3.8, as laid out in Modules/_asynciomodule.c
 * (FutureObj_HEAD, TaskObj and the wrapper a task adds to the futures it awaits).
 * Not in any installed header: tools/gen-offsets/gen_asyncio.py compiles this after Python.h
 * and checks the offsets against a live task of the interpreter. */
typedef enum { STATE_PENDING, STATE_CANCELLED, STATE_FINISHED } fut_state;

typedef struct {
    PyObject_HEAD
    PyObject *task_loop;
    PyObject *task_callback0;
    PyObject *task_context0;
    PyObject *task_callbacks;
    PyObject *task_exception;
    PyObject *task_result;
    PyObject *task_source_tb;
    fut_state task_state;
    int task_log_tb;
    int task_blocking;
    PyObject *dict;
    PyObject *task_weakreflist;
    /* TaskObj's own fields */
    PyObject *task_fut_waiter;
    PyObject *task_coro;
    PyObject *task_name;
    PyObject *task_context;
    int task_must_cancel;
    int task_log_destroy_pending;
} TaskObj;

/* `Task._wakeup` bound to a task: the callback a task adds to the future it awaits. */
typedef struct {
    PyObject_HEAD
    TaskObj *ww_task;
} TaskWakeupMethWrapper;
