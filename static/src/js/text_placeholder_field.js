/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
// Odoo 18's char field shows another field's value as its placeholder
// (option placeholder_field); this brings the same to multi-line text fields.
import {registry} from "@web/core/registry";
import {TextField, textField} from "@web/views/fields/text/text_field";

export class CollectionTextPlaceholderField extends TextField {
    static template = "account_payment_collection.TextPlaceholderField";
    static props = {
        ...TextField.props,
        placeholderField: {type: String, optional: true},
    };

    get placeholder() {
        return (
            (this.props.placeholderField &&
                this.props.record.data[this.props.placeholderField]) ||
            this.props.placeholder
        );
    }
}

export const collectionTextPlaceholderField = {
    ...textField,
    component: CollectionTextPlaceholderField,
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...textField.extractProps(fieldInfo, dynamicInfo),
        placeholderField: fieldInfo.options.placeholder_field,
    }),
    fieldDependencies: ({options}) =>
        options.placeholder_field ? [{name: options.placeholder_field, type: "text"}] : [],
};

registry
    .category("fields")
    .add("collection_text_placeholder", collectionTextPlaceholderField);
