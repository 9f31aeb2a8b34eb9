# cmake/git_version.cmake — writes the version header with the commit being built.
# Run by the `ipcmark_version` target on every build (cmake -P), so an incremental build
# after a commit records the new commit; configure_file leaves the header untouched when
# nothing changed, so nothing recompiles then. "-dirty": tracked files differ from the commit.
# In: SOURCE_DIR, INPUT, OUTPUT, PROJECT_VERSION.
set(IPCMARK_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE _commit
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _git_rc)
  if(_git_rc EQUAL 0 AND _commit)
    set(IPCMARK_GIT_COMMIT "${_commit}")
    execute_process(COMMAND ${GIT_EXECUTABLE} diff --quiet HEAD --
                    WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE _dirty ERROR_QUIET)
    if(_dirty EQUAL 1)
      string(APPEND IPCMARK_GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
