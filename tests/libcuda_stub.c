/*
 * A stand-in for the NVIDIA driver's libcuda.so.1, for testing the GPU
 * flavour (mxnet-cu112) on machines without a GPU.
 *
 * libmxnet.so links libcuda.so.1 and calls ten driver functions directly
 * (`nm -D --undefined-only libmxnet.so | grep ' cu[A-Z]'`); without a library
 * that defines them it cannot even be loaded. This one defines exactly those
 * ten, and every one answers CUDA_ERROR_NO_DEVICE, so MXNet loads, counts no
 * GPU and runs on the CPU. The CUDA runtime opens the driver by itself, finds
 * none of the functions it asks for here, and reports that no driver is
 * installed ("No cuda driver detected"), which is what a test wants.
 *
 * The arguments are ignored: on x86-64 a callee may leave them unread.
 */

#define CUDA_ERROR_NO_DEVICE 100

#define NO_DEVICE(name) \
    int name(void) { return CUDA_ERROR_NO_DEVICE; }

NO_DEVICE(cuDeviceGet)
NO_DEVICE(cuDevicePrimaryCtxRetain)
NO_DEVICE(cuGraphKernelNodeGetParams)
NO_DEVICE(cuGraphNodeGetType)
NO_DEVICE(cuLaunchKernel)
NO_DEVICE(cuModuleGetFunction)
NO_DEVICE(cuModuleLoadData)
NO_DEVICE(cuModuleLoadDataEx)
NO_DEVICE(cuModuleUnload)

/* Callers print the message it returns, so it must point at a real string. */
int cuGetErrorString(int error, const char **message)
{
    (void)error;
    if (message)
        *message = "no CUDA device (stand-in libcuda.so.1 for tests)";
    return CUDA_ERROR_NO_DEVICE;
}
