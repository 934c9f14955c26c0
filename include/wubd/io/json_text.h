#pragma once

#include <string>

#include <cJSON.h>

namespace wubd::io {

// The compact text of a JSON tree built with cJSON, which it then frees: what every
// JSON answer and line of ours ends with. Out of memory while printing gives an empty
// array or object, of the tree's kind.
inline std::string take_json_text(cJSON* root) {
  char* text = cJSON_PrintUnformatted(root);
  std::string out = text ? text : (cJSON_IsArray(root) ? "[]" : "{}");
  cJSON_free(text);
  cJSON_Delete(root);
  return out;
}

}  // namespace wubd::io
